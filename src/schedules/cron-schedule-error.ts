/** A cron expression or time zone that cannot be read; the message names the field and token at fault. */
export class CronScheduleError extends Error {}
