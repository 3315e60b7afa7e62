// ESLint flat config. Determinism rules apply to the state machine (src/chain) and the
// verifiers (src/verify): nothing there may read the clock, randomness, the environment, the
// filesystem or the network, or use floating point. Import layering and cycles are checked by
// scripts/check-imports.mjs.
import tseslint from 'typescript-eslint';

const determinism = {
  'no-restricted-globals': [
    'error',
    { name: 'Date', message: 'chain code takes time from the block (ctx.block.time), never the clock' },
    { name: 'performance', message: 'no clocks in chain code' },
    { name: 'process', message: 'no environment or process state in chain code' },
    { name: 'setTimeout', message: 'no timers in chain code' },
    { name: 'setInterval', message: 'no timers in chain code' },
    { name: 'setImmediate', message: 'no timers in chain code' },
    { name: 'fetch', message: 'no network in chain code' },
    { name: 'crypto', message: 'use core/hash and core/keys (no randomness in chain code)' },
    { name: 'parseFloat', message: 'no floating point in chain code: use bigint' },
  ],
  'no-restricted-properties': [
    'error',
    { object: 'Math', property: 'random', message: 'no randomness in chain code: derive it from the block' },
    { object: 'Number', property: 'parseFloat', message: 'no floating point in chain code' },
    { property: 'toFixed', message: 'no floating point in chain code' },
    { property: 'randomBytes', message: 'no randomness in chain code' },
    { property: 'randomUUID', message: 'no randomness in chain code' },
  ],
  'no-restricted-imports': [
    'error',
    {
      paths: ['fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'net', 'node:net', 'http', 'node:http', 'https', 'node:https', 'child_process', 'node:child_process', 'os', 'node:os', 'worker_threads', 'node:worker_threads', 'crypto', 'node:crypto', 'lmdb'].map((name) => ({
        name,
        message: 'chain code does no I/O and has no randomness; take what you need through an interface',
      })),
    },
  ],
  'no-restricted-syntax': [
    'error',
    { selector: 'Literal[raw=/^[0-9_]*\\.[0-9]/]', message: 'no floating-point literals in chain code: amounts are bigint' },
    { selector: "ThrowStatement > NewExpression[callee.name='Error']", message: 'throw a typed error (ChainError via defineErrors, InvariantError...)' },
    { selector: "CallExpression[callee.object.name='JSON'][callee.property.name='stringify']", message: 'state and hashes use the canonical codec, never JSON.stringify' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.scratch/**', 'web/dist/**', 'native/*/build/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: "ThrowStatement > NewExpression[callee.name='Error']", message: 'throw a typed error (GroundworkError and subclasses)' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts', 'src/testkit/**/*.ts'],
    rules: { 'no-restricted-syntax': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['src/chain/**/*.ts', 'src/verify/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: determinism,
  },
);
