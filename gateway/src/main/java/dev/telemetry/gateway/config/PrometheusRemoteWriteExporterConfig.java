package dev.telemetry.gateway.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The Prometheus remote-write 1.0 exporter (metrics only). Series are spread over {@code shards} concurrent senders
 * by label hash, so each series' samples stay in order; requests carry at most {@code maxSamplesPerSend} samples and
 * {@code maxBytesPerSend} uncompressed bytes. Delta points are turned into cumulative series with per-series state
 * bounded by {@code deltaMaxSeries} entries and {@code deltaTtl} idleness.
 */
public record PrometheusRemoteWriteExporterConfig(String name, URI endpoint, Duration timeout,
                                                  Map<String, String> headers, Map<String, String> externalLabels,
                                                  boolean addMetricSuffixes, boolean scopeLabels, boolean targetInfo,
                                                  List<String> promoteResourceAttributes, int shards,
                                                  int maxSamplesPerSend, long maxBytesPerSend, int deltaMaxSeries,
                                                  Duration deltaTtl, QueueConfig queue, BatchConfig batch,
                                                  RetryConfig retry) implements ExporterConfig {
  public static final String TYPE = "prometheus_remote_write";
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
  public static final int DEFAULT_SHARDS = 4;
  public static final int DEFAULT_MAX_SAMPLES_PER_SEND = 2000;
  public static final long DEFAULT_MAX_BYTES_PER_SEND = 4L * 1024 * 1024;
  public static final int DEFAULT_DELTA_MAX_SERIES = 100_000;
  public static final Duration DEFAULT_DELTA_TTL = Duration.ofMinutes(10);
  /** One batch at a time keeps per-series order across batches; parallelism comes from the shards. */
  public static final QueueConfig DEFAULT_QUEUE = new QueueConfig(QueueConfig.DEFAULTS.maxItems(),
      QueueConfig.DEFAULTS.maxBytes(), 1);

  public PrometheusRemoteWriteExporterConfig {
    headers = Map.copyOf(headers);
    externalLabels = Map.copyOf(externalLabels);
    promoteResourceAttributes = List.copyOf(promoteResourceAttributes);
    if (queue.concurrency() != 1) {
      throw new IllegalArgumentException("queue.concurrency must be 1 for prometheus_remote_write: samples of a "
          + "series must arrive in order, so batches go one at a time (use \"shards\" for parallel sends)");
    }
    for (String label : externalLabels.keySet()) {
      if (!label.matches("[a-zA-Z_][a-zA-Z0-9_]*") || label.startsWith("__")) {
        throw new IllegalArgumentException("external_labels: \"" + label + "\" is not a valid Prometheus label name");
      }
    }
  }

  @Override
  public String type() {
    return TYPE;
  }
}
