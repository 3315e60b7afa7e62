import { defineErrors } from '../../../core/errors.js';

export const TestverticalErrors = defineErrors('testvertical', {
  UNKNOWN_DEVICE: [1, 'no device with this key is registered; onboard it first'],
  BAD_SIGNATURE: [2, 'the device signature does not verify over this report for this chain'],
  REPLAYED: [3, 'the report seq is not greater than the device last accepted one (a replay)'],
  DEVICE_NOT_ACTIVE: [4, 'the device is jailed or retired: its reports are refused'],
  NOT_AUTHORITY: [5, 'only testvertical.authority may report faults'],
  INVALID_REPORT: [6, 'units must be positive and the reason a reason code'],
});
