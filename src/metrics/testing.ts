// For the unit specs of this folder; tsconfig.build.json leaves src/**/testing.ts out of dist/.
import type { Registry } from 'prom-client';

/** The value of the sample with this name and exactly these labels, collected as a scrape would; 0 if none. */
export async function sampleValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const sample of metric.values) {
      const sampleName = (sample as { metricName?: string }).metricName ?? metric.name;
      const sampleLabels = Object.entries(sample.labels).map(([key, value]) => [key, String(value)]);
      if (sampleName === name && JSON.stringify(sampleLabels.sort()) === wanted) return sample.value;
    }
  }
  return 0;
}
