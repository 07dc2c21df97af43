import { registerDecorator, type ValidationArguments } from 'class-validator';
import { CronScheduleError } from './cron-schedule-error.js';
import { CronSchedule } from './cron-schedule.js';

/** What is wrong with `value` as a cron expression, naming the field and token at fault; undefined when nothing is. */
export function cronExpressionProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  try {
    CronSchedule.parse(value);
    return undefined;
  } catch (error) {
    if (error instanceof CronScheduleError) return error.message;
    throw error;
  }
}

/** A cron expression as `CronSchedule` reads it; the message names the field and token at fault. */
export function IsCronExpression(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isCronExpression',
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) => cronExpressionProblem(value) === undefined,
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property} is not a valid cron expression: ${cronExpressionProblem(args?.value)}`,
      },
    });
}
