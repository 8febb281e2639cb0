// `none`: neutral; every node scores 0 and the scheduler's own plugins decide.
import type { Policy } from './config.js';

export const none: Policy = {
  name: 'none',
  summary: 'neutral: every node scores 0 (locality ignored)',
  credit: () => 0,
};
