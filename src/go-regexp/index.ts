/**
 * go-regexp: what Go's regexp package does beyond matching (which re2js does), shared by PromQL's
 * label_replace and the alert templates' reReplaceAll.
 */
export { expandGoTemplate } from './expand.js';
export type { GroupRef } from './expand.js';
