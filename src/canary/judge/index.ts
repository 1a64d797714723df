/** The canary judge: a sequential, always-valid abort / promote / continue decision per bucket. */
export {
  type Bucket,
  bucketProblem,
  type Counts,
  createSequentialJudge,
  DEFAULT_JUDGE_OPTIONS,
  type JudgeDecision,
  type JudgeOptions,
  type JudgeState,
  type SequentialJudge,
} from './sequential.ts';
