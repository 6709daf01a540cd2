package dev.telemetry.gateway.exporter.prometheus;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Running totals that turn OTLP delta points into the cumulative series Prometheus expects, one entry per series.
 * Bounded: at most {@code maxSeries} entries (least recently updated evicted first) and entries idle for longer than
 * the TTL expire. An evicted or expired series restarts from its next delta, which Prometheus sees as a counter
 * reset — correct for rate(), and the only safe choice once the history is gone. Confined to the exporter's context.
 */
final class CumulativeState {

  /** Cumulative explicit-bucket histogram. */
  static final class Histo {
    double[] bounds;
    long[] counts;
    long count;
    double sum;
  }

  /** Cumulative exponential histogram. */
  static final class ExpHisto {
    int scale;
    double zeroThreshold;
    long zeroCount;
    long count;
    double sum;
    ExponentialBuckets positive = ExponentialBuckets.EMPTY;
    ExponentialBuckets negative = ExponentialBuckets.EMPTY;
  }

  private static final class Entry {
    double sum;
    Histo histo;
    ExpHisto exp;
    long touchedMillis;
  }

  private final int maxSeries;
  private final long ttlMillis;
  private long evictions;
  private final LinkedHashMap<Labels, Entry> entries;

  CumulativeState(int maxSeries, long ttlMillis) {
    this.maxSeries = maxSeries;
    this.ttlMillis = ttlMillis;
    this.entries = new LinkedHashMap<>(1024, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Labels, Entry> eldest) {
        if (size() > CumulativeState.this.maxSeries) {
          evictions++;
          return true;
        }
        return false;
      }
    };
  }

  private Entry entry(Labels key, long nowMillis) {
    Entry e = entries.get(key);
    if (e != null && nowMillis - e.touchedMillis > ttlMillis) {
      entries.remove(key);
      e = null;
    }
    if (e == null) {
      e = new Entry();
      entries.put(key, e);
    }
    e.touchedMillis = nowMillis;
    return e;
  }

  /** Adds a delta to a sum series and returns the running total. */
  double addSum(Labels key, double delta, long nowMillis) {
    Entry e = entry(key, nowMillis);
    e.sum += delta;
    return e.sum;
  }

  /** Adds a delta histogram; bucket layout changes restart the series. */
  Histo addHistogram(Labels key, double[] bounds, long[] counts, long count, double sum, long nowMillis) {
    Entry e = entry(key, nowMillis);
    Histo h = e.histo;
    if (h == null || !java.util.Arrays.equals(h.bounds, bounds)) {
      h = new Histo();
      h.bounds = bounds;
      h.counts = new long[counts.length];
      e.histo = h;
    }
    for (int i = 0; i < counts.length; i++) {
      h.counts[i] += counts[i];
    }
    h.count += count;
    h.sum += sum;
    return h;
  }

  /** Adds a delta exponential histogram, lowering the running total's scale when the delta's is coarser. */
  ExpHisto addExponential(Labels key, int scale, double zeroThreshold, long zeroCount, long count, double sum,
                          ExponentialBuckets positive, ExponentialBuckets negative, long nowMillis) {
    Entry e = entry(key, nowMillis);
    ExpHisto h = e.exp;
    if (h == null) {
      h = new ExpHisto();
      h.scale = scale;
      e.exp = h;
    }
    int target = Math.min(h.scale, scale);
    h.positive = h.positive.downscale(h.scale - target).plus(positive.downscale(scale - target));
    h.negative = h.negative.downscale(h.scale - target).plus(negative.downscale(scale - target));
    h.scale = target;
    h.zeroThreshold = Math.max(h.zeroThreshold, zeroThreshold);
    h.zeroCount += zeroCount;
    h.count += count;
    h.sum += sum;
    return h;
  }

  /** Drops entries idle for longer than the TTL; called periodically. */
  int expire(long nowMillis) {
    int n = 0;
    for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
      if (nowMillis - it.next().touchedMillis > ttlMillis) {
        it.remove();
        n++;
      }
    }
    return n;
  }

  int size() {
    return entries.size();
  }

  long evictions() {
    return evictions;
  }
}
