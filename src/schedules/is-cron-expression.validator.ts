import { registerDecorator, type ValidationArguments } from 'class-validator';
import { CronSchedule, CronScheduleError } from './cron-schedule.js';

function problemWith(value: unknown): string | undefined {
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
        validate: (value: unknown) => problemWith(value) === undefined,
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property} is not a valid cron expression: ${problemWith(args?.value)}`,
      },
    });
}
