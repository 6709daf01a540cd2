package dev.telemetry.gateway.connector;

import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A connector's series by label values, bounded: beyond {@code limit} series, new label sets share one overflow
 * series (labelled {@code otel.metric.overflow="true"}, the SDKs' convention); a series not updated for
 * {@code expiryNanos} (0: never) is reported one last time and forgotten (counted), and starts from zero if its
 * labels come back. Lookups are thread-safe; what a series holds is the caller's to guard.
 */
public final class SeriesTable<S extends SeriesTable.Series> {
  /** One label set's state; {@code labels} null for the overflow series. */
  public abstract static class Series {
    private final Labels labels;
    private final long startUnixNanos = System.currentTimeMillis() * 1_000_000L;
    private volatile long touchedNanos = System.nanoTime();

    protected Series(Labels labels) {
      this.labels = labels;
    }

    public final boolean isOverflow() {
      return labels == null;
    }

    /** The label values; null for the overflow series. */
    public final Labels labels() {
      return labels;
    }

    public final long startUnixNanos() {
      return startUnixNanos;
    }

    public final void touch(long nowNanos) {
      touchedNanos = nowNanos;
    }
  }

  /** Label values in the order of the table's names; a null value is a label left out. */
  public record Labels(String[] values) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Labels l && Arrays.equals(values, l.values);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(values);
    }
  }

  private static final List<KeyValue> OVERFLOW = List.of(KeyValue.newBuilder().setKey("otel.metric.overflow")
      .setValue(AnyValue.newBuilder().setBoolValue(true)).build());

  private final List<String> names;
  private final int limit;
  private final long expiryNanos;
  private final Function<Labels, S> factory;
  private final Map<Labels, S> series = new ConcurrentHashMap<>();
  private final AtomicInteger size = new AtomicInteger();
  private final LongAdder expired = new LongAdder();
  private volatile S overflow;

  public SeriesTable(List<String> names, int limit, long expiryNanos, Function<Labels, S> factory) {
    if (limit < 1) {
      throw new IllegalArgumentException("cardinality limit must be at least 1");
    }
    this.names = List.copyOf(names);
    this.limit = limit;
    this.expiryNanos = expiryNanos;
    this.factory = factory;
  }

  /** The series of these label values, created if there is room, else the overflow series. */
  public S get(String[] values) {
    Labels key = new Labels(values);
    S existing = series.get(key);
    if (existing != null) {
      return existing;
    }
    if (size.incrementAndGet() > limit) {
      size.decrementAndGet();
      S o = overflow;
      if (o == null) {
        synchronized (this) {
          o = overflow;
          if (o == null) {
            o = factory.apply(null);
            overflow = o;
          }
        }
      }
      return o;
    }
    S created = factory.apply(key);
    S raced = series.putIfAbsent(key, created);
    if (raced != null) {
      size.decrementAndGet();
      return raced;
    }
    return created;
  }

  /** The series of these label values if it exists (never creates one, never the overflow series). */
  public S find(String[] values) {
    return series.get(new Labels(values));
  }

  /**
   * Visits every series (the overflow series last), then forgets those idle past the expiry. One caller at a time
   * (the connector's flush timer).
   */
  public void sweep(Consumer<S> visitor) {
    long now = System.nanoTime();
    Iterator<S> it = series.values().iterator();
    while (it.hasNext()) {
      S s = it.next();
      visitor.accept(s);
      if (expiryNanos > 0 && now - ((Series) s).touchedNanos > expiryNanos) {
        it.remove();
        size.decrementAndGet();
        expired.increment();
      }
    }
    S o = overflow;
    if (o != null) {
      visitor.accept(o);
    }
  }

  /** The series' labels as OTLP attributes, absent values left out. */
  public List<KeyValue> attributes(Series s) {
    if (s.labels == null) {
      return OVERFLOW;
    }
    String[] values = s.labels.values();
    List<KeyValue> out = new ArrayList<>(values.length);
    for (int i = 0; i < values.length; i++) {
      if (values[i] != null) {
        out.add(KeyValue.newBuilder().setKey(names.get(i)).setValue(AnyValue.newBuilder()
            .setStringValue(values[i])).build());
      }
    }
    return out;
  }

  /** Series tracked now (without the overflow series). */
  public int size() {
    return size.get();
  }

  /** Series forgotten after the expiry so far. */
  public long expired() {
    return expired.sum();
  }
}
