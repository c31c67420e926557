/**
 * rollout: the operators' rollout procedures (staging canary, production phased rollout, cutover
 * announcement), supervised cohort by cohort, with their artifacts; and the SLO snapshot the
 * daemon serves for them.
 */
export { sloSnapshotDocument, sloQueries, measureSlo, judgeSlo, readSloValues } from './slo-snapshot.js';
export type { SloValues, SloThresholds, SloSnapshotDocument, SloJudgement } from './slo-snapshot.js';
