package dev.telemetry.gateway.analytics.anomaly;

import dev.telemetry.gateway.config.AnomaliesConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.config.NamingConvention;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the gateway's own metrics for {@code source: self} streams (queue age, refusals, …) into the
 * {@link SeriesBook} at every evaluation: a gauge's value (the largest in the step), a counter's increase since the
 * last reading. Names are matched as Prometheus scrapes them ({@code gateway_queue_oldest_age_seconds}; a counter
 * with or without {@code _total}). Not thread-safe: the evaluation timer calls it.
 */
final class SelfMetricsReader {
  private final MeterRegistry registry;
  private final List<AnomaliesConfig.Stream> streams;
  private final SeriesBook book;
  private final Map<Meter.Id, Double> lastCount = new HashMap<>();

  SelfMetricsReader(MeterRegistry registry, List<AnomaliesConfig.Stream> streams, SeriesBook book) {
    this.registry = registry;
    this.streams = streams.stream().filter(s -> s.source() == AnomaliesConfig.Stream.Source.SELF).toList();
    this.book = book;
  }

  boolean active() {
    return !streams.isEmpty();
  }

  void read(long step) {
    NamingConvention convention = registry.config().namingConvention();
    for (Meter m : registry.getMeters()) {
      Meter.Id id = m.getId();
      String name = convention.name(id.getName(), id.getType(), id.getBaseUnit());
      for (AnomaliesConfig.Stream s : streams) {
        boolean counter = s.type() == AnomaliesConfig.Stream.Type.COUNTER;
        if (!(s.metric().equals(name) || counter && s.metric().equals(name + "_total"))) {
          continue;
        }
        Map<String, String> labels = new LinkedHashMap<>();
        for (Tag t : id.getTags()) {
          labels.put(convention.tagKey(t.getKey()), t.getValue());
        }
        if (!MetricReader.matches(s, labels)) {
          continue;
        }
        Map<String, String> group = MetricReader.group(s.groupBy(), labels);
        if (counter) {
          double count = m instanceof Counter c ? c.count() : m instanceof FunctionCounter f ? f.count() : Double.NaN;
          if (Double.isNaN(count)) {
            continue;
          }
          Double before = lastCount.put(id, count);
          double increase = before == null ? 0 : count >= before ? count - before : count;
          book.add(s.name(), "value", group, SeriesBook.Merge.SUM, null, step, new double[] {increase});
        } else if (m instanceof Gauge g && Double.isFinite(g.value())) {
          book.add(s.name(), "value", group, SeriesBook.Merge.MAX, null, step, new double[] {g.value()});
        }
      }
    }
  }
}
