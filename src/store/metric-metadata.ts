/**
 * Metric metadata: what a metric name means (its type and help text), kept beside the series the
 * way Prometheus keeps the `# HELP` / `# TYPE` of a scrape next to its samples
 * (`storage.Appender.UpdateMetadata`). Whoever writes a series describes it once; readers such as
 * the /metrics exposition look it up by name.
 */

/** MetricTypes are the exposition types a series can be described with. */
export const MetricTypes = ['counter', 'gauge', 'histogram', 'untyped'] as const;
/** MetricType is one of MetricTypes. */
export type MetricType = (typeof MetricTypes)[number];

/** MetricMetadata describes one metric family. */
export interface MetricMetadata {
  readonly type: MetricType;
  /** help is one line of text; never a secret. */
  readonly help: string;
}

/** MetricDescriber is what a writer of series needs to describe them. */
export interface MetricDescriber {
  describe(name: string, metadata: MetricMetadata): void;
}

/** MetricMetadataSource is what a reader needs. */
export interface MetricMetadataSource {
  metadata(name: string): MetricMetadata | undefined;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * MetricMetadataRegistry holds the descriptions of metric families by name. The first help text
 * for a name stays (two probes sharing an instrument describe it alike); describing a name again
 * with another type is a programming error and throws, as registering it twice in prom-client
 * would, because one family cannot be exposed under two types.
 */
export class MetricMetadataRegistry implements MetricDescriber, MetricMetadataSource {
  private readonly byName = new Map<string, MetricMetadata>();

  describe(name: string, metadata: MetricMetadata): void {
    if (!METRIC_NAME.test(name)) throw new TypeError(`metric name ${JSON.stringify(name)} is not a valid Prometheus metric name`);
    const known = this.byName.get(name);
    if (known) {
      if (known.type !== metadata.type) throw new TypeError(`metric ${name} is already described as a ${known.type}, not a ${metadata.type}`);
      return;
    }
    this.byName.set(name, { type: metadata.type, help: metadata.help.replace(/\s+/g, ' ').trim() });
  }

  metadata(name: string): MetricMetadata | undefined {
    return this.byName.get(name);
  }

  /** names lists every described name. */
  names(): string[] {
    return [...this.byName.keys()];
  }
}
