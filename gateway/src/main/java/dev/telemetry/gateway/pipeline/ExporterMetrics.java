package dev.telemetry.gateway.pipeline;

import dev.telemetry.gateway.otlp.Signal;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** The meters of one exporter queue (one exporter for one signal); names are documented in docs/metrics.md. */
final class ExporterMetrics {
  private final MeterRegistry registry;
  private final Tags tags;
  private final Counter queued;
  private final Counter sent;
  private final Counter retries;
  private final DistributionSummary batchItems;
  private final DistributionSummary batchBytes;
  private final Timer latency;
  private final ConcurrentMap<String, Counter> failed = new ConcurrentHashMap<>();

  ExporterMetrics(MeterRegistry registry, String exporter, Signal signal) {
    this.registry = registry;
    this.tags = Tags.of("exporter", exporter, "signal", signal.id());
    queued = Counter.builder("gateway.exporter.items.queued").description("Items accepted into the exporter queue")
        .tags(tags).register(registry);
    sent = Counter.builder("gateway.exporter.items.sent").description("Items the backend accepted")
        .tags(tags).register(registry);
    retries = Counter.builder("gateway.exporter.retries").description("Batch send attempts that were retried")
        .tags(tags).register(registry);
    batchItems = DistributionSummary.builder("gateway.exporter.batch.items").description("Items per sent batch")
        .baseUnit("items").serviceLevelObjectives(1, 10, 100, 1000, 8192, 65536).tags(tags).register(registry);
    batchBytes = DistributionSummary.builder("gateway.exporter.batch.size").description("Encoded bytes per batch")
        .baseUnit("bytes").serviceLevelObjectives(1024, 65536, 1 << 20, 4 << 20, 16 << 20).tags(tags)
        .register(registry);
    latency = Timer.builder("gateway.pipeline.latency")
        .description("Time from receipt of a request to its successful export")
        .serviceLevelObjectives(Duration.ofMillis(5), Duration.ofMillis(50), Duration.ofMillis(250),
            Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(30))
        .tags(tags).register(registry);
  }

  void gauges(Supplier<Number> items, Supplier<Number> bytes, long capacityItems, long capacityBytes) {
    Gauge.builder("gateway.queue.items", items).description("Items in the queue, waiting or being sent")
        .tags(tags).register(registry);
    Gauge.builder("gateway.queue.size", bytes).description("Encoded bytes in the queue, waiting or being sent")
        .baseUnit("bytes").tags(tags).register(registry);
    Gauge.builder("gateway.queue.capacity.items", () -> capacityItems).description("Queue bound in items")
        .tags(tags).register(registry);
    Gauge.builder("gateway.queue.capacity", () -> capacityBytes).description("Queue bound in bytes")
        .baseUnit("bytes").tags(tags).register(registry);
  }

  /** Age of the oldest waiting request, and (persistent queues) the write-ahead log's disk use and recovery. */
  void durabilityGauges(Supplier<Number> oldestAgeSeconds, Supplier<Number> diskBytes, java.nio.file.Path directory) {
    Gauge.builder("gateway.queue.oldest.age", oldestAgeSeconds).description("Age of the oldest request waiting to "
        + "be sent").baseUnit("seconds").tags(tags).register(registry);
    if (diskBytes != null) {
      Gauge.builder("gateway.queue.disk.size", diskBytes).description("Bytes of the queue's write-ahead log on disk")
          .baseUnit("bytes").tags(tags).register(registry);
      java.nio.file.FileStore store = fileStore(directory);
      if (store != null) {
        Gauge.builder("gateway.queue.disk.available", store, ExporterMetrics::usable)
            .description("Bytes free for the queue on its filesystem (what the disk-full forecast counts down)")
            .baseUnit("bytes").tags(tags).register(registry);
      }
    }
  }

  private static java.nio.file.FileStore fileStore(java.nio.file.Path directory) {
    try {
      java.nio.file.Path p = directory == null ? null : directory.toAbsolutePath();
      while (p != null && !java.nio.file.Files.exists(p)) {
        p = p.getParent(); // not created yet: the filesystem it will be on
      }
      return p == null ? null : java.nio.file.Files.getFileStore(p);
    } catch (java.io.IOException e) {
      return null;
    }
  }

  private static double usable(java.nio.file.FileStore store) {
    try {
      return store.getUsableSpace();
    } catch (java.io.IOException e) {
      return Double.NaN;
    }
  }

  void recovered(long items, int tornRecords) {
    Counter.builder("gateway.queue.recovered.items").description("Items replayed from the write-ahead log at start "
        + "(not delivered before the last stop or crash; those sent just before a crash may be duplicates)")
        .tags(tags).register(registry).increment(items);
    Counter.builder("gateway.queue.torn.records").description("Damaged write-ahead log records discarded at start "
        + "(mostly a write cut short by a crash, never acknowledged; the log names damage inside a file apart)").tags(tags).register(registry)
        .increment(tornRecords);
  }

  void queued(int items) {
    queued.increment(items);
  }

  void sent(int items, int bytes) {
    sent.increment(items);
    batchItems.record(items);
    batchBytes.record(bytes);
  }

  void latency(long receivedNanos, long nowNanos) {
    latency.record(nowNanos - receivedNanos, TimeUnit.NANOSECONDS);
  }

  void retried() {
    retries.increment();
  }

  void failed(String reason, long items) {
    failed.computeIfAbsent(reason, r -> Counter.builder("gateway.exporter.items.failed")
        .description("Items that could not be delivered, by reason").tags(tags).tag("reason", r)
        .register(registry)).increment(items);
  }
}
