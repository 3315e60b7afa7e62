/**
 * Groundwork TypeScript SDK.
 *
 *   import { createClient, transfer, getAccount, Keyring } from 'groundwork/client';
 */
export { Client, createClient, type ClientConfig, type TrustAnchor } from './client.js';
export * from './errors.js';
export { verifyStateProof, verifySignedHeader, type ProofView, type VerifiedValue } from './verify.js';
export { getStatus, type GetStatusReturnType } from './actions/getStatus.js';
export { getAccount, type GetAccountParameters, type GetAccountReturnType } from './actions/getAccount.js';
export { getState, type GetStateParameters } from './actions/getState.js';
export { getSupply, type GetSupplyReturnType } from './actions/getSupply.js';
export { getBlock, type BlockView, type GetBlockParameters } from './actions/getBlock.js';
export { getTx, waitForTx, type TxView, type GetTxParameters } from './actions/getTx.js';
export { sendTx, sendTxBatch, type SendTxReturnType, type BatchResult } from './actions/sendTx.js';
export { getParams, type ParamsView } from './actions/getParams.js';
export { moduleQuery } from './actions/moduleQuery.js';
export { reportPrice, type ReportPriceParameters, type ReportPriceReturnType, type ReportPriceErrorType } from './actions/reportPrice.js';
export { getPrice, type GetPriceReturnType, type GetPriceErrorType, type PriceReportView } from './actions/getPrice.js';
export { mintCredits, type MintCreditsParameters, type MintCreditsReturnType, type MintCreditsErrorType } from './actions/mintCredits.js';
export { getCredits, type GetCreditsParameters, type GetCreditsReturnType, type GetCreditsErrorType } from './actions/getCredits.js';
export { getCreditTotals, type GetCreditTotalsParameters, type GetCreditTotalsReturnType, type GetCreditTotalsErrorType } from './actions/getCreditTotals.js';
export { searchTxs, type SearchTxsParameters } from './actions/searchTxs.js';
export { prepareTx, signAndSend, transfer, type PrepareTxParameters, type SignAndSendReturnType } from './actions/signAndSend.js';
export { getDevice, type GetDeviceParameters, type GetDeviceReturnType } from './actions/getDevice.js';
export { getDevicesOf, getAllDevices, type GetDevicesOfParameters, type GetDevicesOfReturnType, type GetAllDevicesParameters, type DeviceView } from './actions/getDevicesOf.js';
export { getMakers, type GetMakersReturnType, type MakerView } from './actions/getMakers.js';
export { signMakerApproval, type SignMakerApprovalParameters } from './actions/signMakerApproval.js';
export { signDeviceConsent, type SignDeviceConsentParameters } from './actions/signDeviceConsent.js';
export { onboardDevice, type OnboardDeviceParameters, type OnboardDeviceErrorType, type OnboardDeviceReturnType } from './actions/onboardDevice.js';
export { assertDeviceLocation, type AssertDeviceLocationParameters, type AssertDeviceLocationErrorType } from './actions/assertDeviceLocation.js';
export { transferDevice, type TransferDeviceParameters, type TransferDeviceErrorType } from './actions/transferDevice.js';
export { retireDevice, type RetireDeviceParameters, type RetireDeviceErrorType } from './actions/retireDevice.js';
export { unjailDevice, type UnjailDeviceParameters, type UnjailDeviceErrorType } from './actions/unjailDevice.js';
export { submitProposal, type SubmitProposalParameters, type SubmitProposalReturnType, type SubmitProposalErrorType } from './actions/submitProposal.js';
export { buildParamsChange, type BuildParamsChangeParameters, type BuildParamsChangeReturnType, type BuildParamsChangeErrorType } from './actions/buildParamsChange.js';
export { voteProposal, type VoteProposalParameters, type VoteProposalReturnType, type VoteProposalErrorType } from './actions/voteProposal.js';
export { getProposals, type GetProposalsParameters, type GetProposalsReturnType, type GetProposalsErrorType, type ProposalSummaryView } from './actions/getProposals.js';
export { getProposal, type ProposalView, type TallyView, type GetProposalErrorType } from './actions/getProposal.js';
export { getProposalVotes, type GetProposalVotesReturnType, type GetProposalVotesErrorType, type VoteView } from './actions/getProposalVotes.js';
export { getTreasury, type GetTreasuryReturnType, type GetTreasuryErrorType } from './actions/getTreasury.js';
export { delegate, type DelegateParameters, type DelegateReturnType, type DelegateErrorType } from './actions/delegate.js';
export { undelegate, type UndelegateParameters, type UndelegateReturnType, type UndelegateErrorType } from './actions/undelegate.js';
export { setValidator, type SetValidatorParameters, type SetValidatorReturnType, type SetValidatorErrorType } from './actions/setValidator.js';
export { unjail, type UnjailParameters, type UnjailReturnType, type UnjailErrorType } from './actions/unjail.js';
export { getOperator, type GetOperatorParameters, type GetOperatorReturnType, type GetOperatorErrorType } from './actions/getOperator.js';
export { getOperators, type GetOperatorsParameters, type GetOperatorsReturnType, type GetOperatorsErrorType } from './actions/getOperators.js';
export { getDelegation, type GetDelegationParameters, type GetDelegationReturnType, type GetDelegationErrorType } from './actions/getDelegation.js';
export { getDelegations, type GetDelegationsParameters, type GetDelegationsReturnType, type GetDelegationsErrorType } from './actions/getDelegations.js';
export { getRewardEpoch, getCurrentEpoch, type GetRewardEpochParameters, type GetRewardEpochReturnType, type GetRewardEpochErrorType, type CurrentEpochView } from './actions/getRewardEpoch.js';
export { getRewardLine, isRewardClaimed, verifyRewardLine, type GetRewardLineParameters, type GetRewardLineReturnType, type GetRewardLineErrorType, type RewardLineView, type IsRewardClaimedParameters } from './actions/getRewardLine.js';
export { claimReward, type ClaimRewardParameters, type ClaimRewardReturnType, type ClaimRewardErrorType } from './actions/claimReward.js';
export { getPendingRewards, type GetPendingRewardsParameters, type GetPendingRewardsReturnType, type GetPendingRewardsErrorType, type PendingReward } from './actions/getPendingRewards.js';
export { claimAllRewards, type ClaimAllRewardsParameters, type ClaimAllRewardsReturnType, type ClaimAllRewardsErrorType } from './actions/claimAllRewards.js';
export { explainReward, type ExplainRewardParameters, type ExplainRewardReturnType, type ExplainRewardErrorType } from './actions/explainReward.js';
export { getSlash, type GetSlashParameters, type GetSlashReturnType, type GetSlashErrorType } from './actions/getSlash.js';
export { getSlashes, getSlashEscrow, type GetSlashesParameters, type GetSlashesReturnType, type GetSlashesErrorType, type SlashView, type GetSlashEscrowReturnType } from './actions/getSlashes.js';
export { getDeviceFaults, type GetDeviceFaultsParameters, type GetDeviceFaultsReturnType, type GetDeviceFaultsErrorType } from './actions/getDeviceFaults.js';
export { submitEvidence, type SubmitEvidenceParameters, type SubmitEvidenceReturnType, type SubmitEvidenceErrorType } from './actions/submitEvidence.js';
export { disputeSlash, type DisputeSlashParameters, type DisputeSlashReturnType, type DisputeSlashErrorType } from './actions/disputeSlash.js';
export { signTestReport, type SignTestReportParameters } from './actions/signTestReport.js';
export { submitTestReport, type SubmitTestReportParameters, type SubmitTestReportReturnType, type SubmitTestReportErrorType } from './actions/submitTestReport.js';
export { reportTestFault, type ReportTestFaultParameters, type ReportTestFaultReturnType, type ReportTestFaultErrorType } from './actions/reportTestFault.js';
export { Keyring, type KeyInfo, type KeyringBackend } from './keyring.js';
export { Ed25519Key, encodeAddress, decodeAddress, isAddress } from '../core/keys.js';
export { parseAmount, formatAmount, formatBase } from '../core/amount.js';
export { parseUsd, formatUsd, formatDc } from '../core/usd.js';
export { cometVerifiedQuery, verifyCometCommit, CometLightClient, cometRpcSource, type CometQueryResult, type CometSource, type TrustedValidator, type VerifiedHeader } from './cometbft.js';
export { registerProvider, type RegisterProviderParameters, type RegisterProviderReturnType, type RegisterProviderErrorType } from './actions/registerProvider.js';
export { createOrder, type CreateOrderParameters, type CreateOrderReturnType, type CreateOrderErrorType } from './actions/createOrder.js';
export { placeBid, type PlaceBidParameters, type PlaceBidReturnType, type PlaceBidErrorType } from './actions/placeBid.js';
export { cancelBid, type CancelBidParameters, type CancelBidReturnType, type CancelBidErrorType } from './actions/cancelBid.js';
export { acceptBid, type AcceptBidParameters, type AcceptBidReturnType, type AcceptBidErrorType } from './actions/acceptBid.js';
export { closeOrder, type CloseOrderParameters, type CloseOrderReturnType, type CloseOrderErrorType } from './actions/closeOrder.js';
export { closeLease, type CloseLeaseParameters, type CloseLeaseReturnType, type CloseLeaseErrorType } from './actions/closeLease.js';
export { topupOrder, type TopupOrderParameters, type TopupOrderReturnType, type TopupOrderErrorType } from './actions/topupOrder.js';
export { withdrawEarnings, type WithdrawEarningsParameters, type WithdrawEarningsReturnType, type WithdrawEarningsErrorType } from './actions/withdrawEarnings.js';
export { getOrder, type GetOrderParameters, type GetOrderReturnType, type GetOrderErrorType } from './actions/getOrder.js';
export { getOrders, type GetOrdersParameters, type GetOrdersReturnType, type GetOrdersErrorType } from './actions/getOrders.js';
export { getOpenOrders, type GetOpenOrdersParameters, type GetOpenOrdersReturnType, type GetOpenOrdersErrorType } from './actions/getOpenOrders.js';
export { getBids, type GetBidsParameters, type GetBidsReturnType, type GetBidsErrorType } from './actions/getBids.js';
export { getLease, type GetLeaseParameters, type GetLeaseReturnType, type GetLeaseErrorType } from './actions/getLease.js';
export { getLeases, type GetLeasesParameters, type GetLeasesReturnType, type GetLeasesErrorType } from './actions/getLeases.js';
export { getProvider, type GetProviderParameters, type GetProviderReturnType, type GetProviderErrorType } from './actions/getProvider.js';
export { getProviders, type GetProvidersParameters, type GetProvidersReturnType, type GetProvidersErrorType } from './actions/getProviders.js';
export { explainOrder, type ExplainOrderParameters, type ExplainOrderReturnType, type ExplainOrderErrorType, type ProviderEligibility } from './actions/explainOrder.js';
export { previewSettlement, type PreviewSettlementParameters, type PreviewSettlementReturnType, type PreviewSettlementErrorType } from './actions/previewSettlement.js';
export { type MarketOrder, type MarketBid, type MarketLease, type MarketProvider, type OrderView, type BidView, type LeaseView, type ProviderView } from './marketViews.js';
export { getDeal, type GetDealParameters, type GetDealReturnType, type GetDealErrorType } from './actions/getDeal.js';
export { getDeals, type GetDealsParameters, type GetDealsReturnType, type GetDealsErrorType } from './actions/getDeals.js';
export { getStorageChallenges, type GetStorageChallengesParameters, type GetStorageChallengesReturnType, type GetStorageChallengesErrorType } from './actions/getStorageChallenges.js';
export { getRetrievalChecks, type GetRetrievalChecksParameters, type GetRetrievalChecksReturnType, type GetRetrievalChecksErrorType } from './actions/getRetrievalChecks.js';
export { createDeal, type CreateDealParameters, type CreateDealReturnType, type CreateDealErrorType, type CreateDealShard } from './actions/createDeal.js';
export { proveStorage, type ProveStorageParameters, type ProveStorageReturnType, type ProveStorageErrorType, type ProofAnswer, type ProofResult } from './actions/proveStorage.js';
export {
  reportRetrieval,
  type ReportRetrievalParameters,
  type ReportRetrievalReturnType,
  type ReportRetrievalErrorType,
  type RetrievalFailure,
  type RetrievalReceiptInput,
  type RetrievalResultInput,
} from './actions/reportRetrieval.js';
export { repairShard, type RepairShardParameters, type RepairShardReturnType, type RepairShardErrorType } from './actions/repairShard.js';
export { closeDeal, type CloseDealParameters, type CloseDealReturnType, type CloseDealErrorType } from './actions/closeDeal.js';
export {
  type StorageDeal,
  type StorageShard,
  type StorageChallenge,
  type StorageChallenges,
  type RetrievalCheck,
  type RetrievalChecks,
  type DealStatus,
  type ShardStatus,
  type DealView,
  type ShardView,
  type ChallengeView,
  type ChallengesView,
  type RetrievalCheckView,
  type RetrievalsView,
  type HexOrBytes,
  type ShardAckInput,
} from './storageViews.js';
export { subscribeEvents, wsUrl, type ChainEvent, type EventSubscription, type SubscribeEventsOptions, type SubscribeEventsErrorType } from './events.js';
