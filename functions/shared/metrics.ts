/**
 * CloudWatch metrics through the embedded metric format: one JSON line on stdout, which Lambda's
 * log delivery turns into metrics (no PutMetricData call, no permission). Namespace RootResponder,
 * one dimension: the stage.
 */
export const METRICS_NAMESPACE = 'RootResponder';

export function embeddedMetrics(stage: string, values: Record<string, number>, now: Date, write: (line: string) => void): void {
  write(
    JSON.stringify({
      _aws: {
        Timestamp: now.getTime(),
        CloudWatchMetrics: [
          {
            Namespace: METRICS_NAMESPACE,
            Dimensions: [['Stage']],
            Metrics: Object.keys(values).map((name) => ({ Name: name, Unit: 'Count' })),
          },
        ],
      },
      Stage: stage,
      ...values,
    }),
  );
}
