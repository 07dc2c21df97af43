import { Inject, Injectable } from '@nestjs/common';
import { Kysely } from 'kysely';
import { DATABASE } from './database.js';
import type { Page } from '../common/page.js';
import type { Database, ReportRow } from './schema.js';

export interface Report {
  id: string;
  runId: string | null;
  title: string;
  periodStart: string;
  periodEnd: string;
  createdAt: string;
  content: Record<string, unknown>;
}

@Injectable()
export class ReportsRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<Database>) {}

  async insert(report: Report): Promise<void> {
    await this.db
      .insertInto('reports')
      .values({
        id: report.id,
        run_id: report.runId,
        title: report.title,
        period_start: report.periodStart,
        period_end: report.periodEnd,
        created_at: report.createdAt,
        content: JSON.stringify(report.content),
      })
      .execute();
  }

  async findById(id: string): Promise<Report | undefined> {
    const row = await this.db.selectFrom('reports').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toReport(row);
  }

  /** Newest first. */
  async list(page: Page): Promise<Report[]> {
    let query = this.db.selectFrom('reports').selectAll();
    if (page.before) query = query.where('created_at', '<', page.before);
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
    return rows.map(toReport);
  }

  async latest(): Promise<Report | undefined> {
    const [report] = await this.list({ limit: 1 });
    return report;
  }
}

function toReport(row: ReportRow): Report {
  return {
    id: row.id,
    runId: row.run_id,
    title: row.title,
    periodStart: row.period_start,
    periodEnd: row.period_end,
    createdAt: row.created_at,
    content: JSON.parse(row.content) as Record<string, unknown>,
  };
}
