package dev.telemetry.gateway.connector;

import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Exemplar;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import java.util.List;

/**
 * The counts of one cumulative histogram series. Not thread-safe: the owner updates and reads it under its own lock
 * (connectors tally a request's values first, so the lock is taken once per series and request, not per value).
 */
public abstract sealed class HistogramCells permits HistogramCells.Explicit, HistogramCells.Exponential {
  protected long count;
  protected double sum;
  protected double min = Double.POSITIVE_INFINITY;
  protected double max = Double.NEGATIVE_INFINITY;

  /** Adds one non-negative value. */
  public final void record(double value) {
    double v = value > 0 ? value : 0;
    count++;
    sum += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
    bucket(v);
  }

  protected abstract void bucket(double value);

  public final long count() {
    return count;
  }

  public final double sum() {
    return sum;
  }

  /** Explicit bounds: bucket i counts values in (bounds[i-1], bounds[i]], the last one the rest. */
  public static final class Explicit extends HistogramCells {
    private final double[] bounds;
    private final long[] counts;

    Explicit(double[] bounds) {
      this.bounds = bounds;
      this.counts = new long[bounds.length + 1];
    }

    @Override
    protected void bucket(double v) {
      int lo = 0;
      int hi = bounds.length;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (v <= bounds[mid]) {
          hi = mid;
        } else {
          lo = mid + 1;
        }
      }
      counts[lo]++;
    }

    HistogramDataPoint point(List<KeyValue> attributes, long start, long now, Exemplar exemplar) {
      HistogramDataPoint.Builder p = HistogramDataPoint.newBuilder().addAllAttributes(attributes)
          .setStartTimeUnixNano(start).setTimeUnixNano(now).setCount(count).setSum(sum);
      for (long c : counts) {
        p.addBucketCounts(c);
      }
      for (double b : bounds) {
        p.addExplicitBounds(b);
      }
      if (count > 0) {
        p.setMin(min).setMax(max);
      }
      if (exemplar != null) {
        p.addExemplars(exemplar);
      }
      return p.build();
    }
  }

  /**
   * Base-2 exponential buckets: at scale s, bucket i counts values in (2^(i·2^-s), 2^((i+1)·2^-s)]. Starts at
   * scale 20 and halves the resolution (scale − 1, indexes shifted right) whenever the values' index range would
   * need more than {@code maxBuckets} buckets; zero goes to the zero bucket.
   */
  public static final class Exponential extends HistogramCells {
    static final int MAX_SCALE = 20;
    private final int maxBuckets;
    private int scale = MAX_SCALE;
    private long zeroCount;
    /** counts[k] is bucket {@code first + k}; null while no positive value was seen. */
    private long[] counts;
    private int first;
    private int last;

    Exponential(int maxBuckets) {
      this.maxBuckets = maxBuckets;
    }

    /** The bucket of {@code v} (positive) at {@code scale}. */
    static int index(double v, int scale) {
      int exp = Math.getExponent(v);
      double mantissa = v / Math.scalb(1.0, exp); // in [1, 2)
      if (mantissa == 1.0) {
        // An exact power of two is the upper bound of the bucket below: (2^(e-1·…), 2^e].
        return (exp << scale) - 1;
      }
      return (int) Math.ceil(Math.scalb(Math.log(v) / Math.log(2), scale)) - 1;
    }

    @Override
    protected void bucket(double v) {
      if (v == 0 || Double.isNaN(v) || Double.isInfinite(v) || v < Double.MIN_NORMAL) {
        zeroCount++;
        return;
      }
      int i = index(v, scale);
      if (counts == null) {
        counts = new long[maxBuckets];
        first = i;
        last = i;
        counts[0]++;
        return;
      }
      int lo = Math.min(first, i);
      int hi = Math.max(last, i);
      if (hi - lo + 1 > maxBuckets) {
        int shift = 0;
        while ((hi >> shift) - (lo >> shift) + 1 > maxBuckets) {
          shift++;
        }
        downscale(shift);
        i = index(v, scale);
        lo = Math.min(first, i);
      }
      if (lo < first) {
        // Move the window so the array starts at lo (the range fits: checked above).
        long[] moved = new long[maxBuckets];
        System.arraycopy(counts, 0, moved, first - lo, last - first + 1);
        counts = moved;
        first = lo;
      }
      last = Math.max(last, i);
      counts[i - first]++;
    }

    private void downscale(int shift) {
      long[] merged = new long[maxBuckets];
      int newFirst = first >> shift;
      for (int k = first; k <= last; k++) {
        merged[(k >> shift) - newFirst] += counts[k - first];
      }
      counts = merged;
      last = (last >> shift);
      first = newFirst;
      scale -= shift;
    }

    public int scale() {
      return scale;
    }

    ExponentialHistogramDataPoint point(List<KeyValue> attributes, long start, long now, Exemplar exemplar) {
      ExponentialHistogramDataPoint.Builder p = ExponentialHistogramDataPoint.newBuilder()
          .addAllAttributes(attributes).setStartTimeUnixNano(start).setTimeUnixNano(now).setCount(count)
          .setSum(sum).setScale(scale).setZeroCount(zeroCount);
      if (counts != null) {
        ExponentialHistogramDataPoint.Buckets.Builder b = ExponentialHistogramDataPoint.Buckets.newBuilder()
            .setOffset(first);
        for (int k = 0; k <= last - first; k++) {
          b.addBucketCounts(counts[k]);
        }
        p.setPositive(b);
      }
      if (count > 0) {
        p.setMin(min).setMax(max);
      }
      if (exemplar != null) {
        p.addExemplars(exemplar);
      }
      return p.build();
    }
  }
}
