package dev.telemetry.gateway.connector;

import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Exemplar;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogram;
import io.opentelemetry.proto.metrics.v1.Histogram;
import io.opentelemetry.proto.metrics.v1.Metric;
import java.util.Arrays;
import java.util.List;

/**
 * How a connector's histograms bucket their values: explicit bounds (classic Prometheus buckets) or exponential
 * (OTLP exponential histograms, Prometheus native histograms) with at most {@code maxBuckets} buckets — the scale
 * starts at the finest and is lowered as values spread, as the OpenTelemetry SDKs do.
 */
public record HistogramSpec(double[] bounds, int maxBuckets) {
  public static final int DEFAULT_MAX_BUCKETS = 160;

  public HistogramSpec {
    if (bounds != null) {
      bounds = bounds.clone();
      for (int i = 1; i < bounds.length; i++) {
        if (!(bounds[i] > bounds[i - 1])) {
          throw new IllegalArgumentException("bucket bounds must increase: " + Arrays.toString(bounds));
        }
      }
    } else if (maxBuckets < 2) {
      throw new IllegalArgumentException("an exponential histogram needs at least 2 buckets");
    }
  }

  public static HistogramSpec explicit(double... bounds) {
    return new HistogramSpec(bounds, 0);
  }

  public static HistogramSpec exponential(int maxBuckets) {
    return new HistogramSpec(null, maxBuckets);
  }

  public boolean isExponential() {
    return bounds == null;
  }

  /** A new, empty histogram of this kind. */
  public HistogramCells cells() {
    return bounds != null ? new HistogramCells.Explicit(bounds) : new HistogramCells.Exponential(maxBuckets);
  }

  /** Collects the points of one cumulative histogram metric. */
  public final class Points {
    private final Histogram.Builder explicit = Histogram.newBuilder()
        .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
    private final ExponentialHistogram.Builder exponential = ExponentialHistogram.newBuilder()
        .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);

    /** One series' point; {@code exemplar} may be null. */
    public void add(HistogramCells cells, List<KeyValue> attributes, long startUnixNanos, long nowUnixNanos,
                    Exemplar exemplar) {
      if (cells instanceof HistogramCells.Explicit e) {
        explicit.addDataPoints(e.point(attributes, startUnixNanos, nowUnixNanos, exemplar));
      } else {
        exponential.addDataPoints(((HistogramCells.Exponential) cells).point(attributes, startUnixNanos,
            nowUnixNanos, exemplar));
      }
    }

    public boolean isEmpty() {
      return explicit.getDataPointsCount() == 0 && exponential.getDataPointsCount() == 0;
    }

    /** The metric, named and described. */
    public Metric.Builder metric(String name, String unit, String description) {
      Metric.Builder m = Metric.newBuilder().setName(name).setUnit(unit).setDescription(description);
      return isExponential() ? m.setExponentialHistogram(exponential) : m.setHistogram(explicit);
    }
  }

  public Points points() {
    return new Points();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HistogramSpec h && Arrays.equals(bounds, h.bounds) && maxBuckets == h.maxBuckets;
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(bounds) + maxBuckets;
  }

  @Override
  public String toString() {
    return isExponential() ? "exponential(max " + maxBuckets + " buckets)" : "explicit" + Arrays.toString(bounds);
  }
}
