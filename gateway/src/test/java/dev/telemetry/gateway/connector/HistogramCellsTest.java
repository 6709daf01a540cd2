package dev.telemetry.gateway.connector;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HistogramCellsTest {
  @Test
  void explicitBucketsCountValuesOnABoundInThatBucket() {
    HistogramCells.Explicit h = (HistogramCells.Explicit) HistogramSpec.explicit(1, 10, 100).cells();
    for (double v : new double[] {0, 1, 1.5, 10, 10.01, 100, 1000}) {
      h.record(v);
    }
    HistogramDataPoint p = h.point(List.of(), 1, 2, null);
    assertThat(p.getBucketCountsList()).containsExactly(2L, 2L, 2L, 1L);
    assertThat(p.getCount()).isEqualTo(7);
    assertThat(p.getSum()).isEqualTo(1122.51);
    assertThat(p.getMin()).isEqualTo(0);
    assertThat(p.getMax()).isEqualTo(1000);
  }

  /** Every value lies in its bucket (base^i, base^(i+1)] at the final scale, and no more buckets than allowed. */
  @Test
  void exponentialBucketsHoldEveryValueWithinTheBucketLimit() {
    Random random = new Random(7);
    HistogramCells.Exponential h = (HistogramCells.Exponential) HistogramSpec.exponential(20).cells();
    double[] values = new double[5000];
    for (int i = 0; i < values.length; i++) {
      values[i] = Math.exp(random.nextGaussian() * 3); // spans many powers of two
      h.record(values[i]);
    }
    h.record(0);
    ExponentialHistogramDataPoint p = h.point(List.of(), 1, 2, null);
    assertThat(p.getPositive().getBucketCountsCount()).isLessThanOrEqualTo(20);
    assertThat(p.getZeroCount()).isEqualTo(1);
    assertThat(p.getCount()).isEqualTo(5001);
    double base = Math.pow(2, Math.pow(2, -p.getScale()));
    long[] expected = new long[p.getPositive().getBucketCountsCount()];
    for (double v : values) {
      int i = (int) Math.ceil(Math.log(v) / Math.log(base)) - 1;
      // Floating point at a bound: accept the neighbour the exact arithmetic picks.
      if (Math.pow(base, i + 1) < v) {
        i++;
      }
      expected[i - p.getPositive().getOffset()]++;
    }
    long[] actual = p.getPositive().getBucketCountsList().stream().mapToLong(Long::longValue).toArray();
    long off = 0;
    for (int i = 0; i < actual.length; i++) {
      off += Math.abs(actual[i] - expected[i]);
    }
    assertThat(off).as("values placed in another bucket than the bounds say").isLessThanOrEqualTo(2);
    assertThat(java.util.Arrays.stream(actual).sum()).isEqualTo(5000);
  }

  @Test
  void exponentialStartsFineAndAnExactPowerOfTwoIsTheUpperBoundOfItsBucket() {
    assertThat(HistogramCells.Exponential.index(1.0, 0)).isEqualTo(-1); // (0.5, 1]
    assertThat(HistogramCells.Exponential.index(2.0, 0)).isEqualTo(0); // (1, 2]
    assertThat(HistogramCells.Exponential.index(3.0, 0)).isEqualTo(1); // (2, 4]
    assertThat(HistogramCells.Exponential.index(4.0, 1)).isEqualTo(3); // (2^1.5, 2^2]
    HistogramCells.Exponential h = (HistogramCells.Exponential) HistogramSpec.exponential(160).cells();
    h.record(5);
    assertThat(h.scale()).isEqualTo(20);
    h.record(5000);
    assertThat(h.scale()).isLessThan(20);
    assertThat(h.point(List.of(), 1, 2, null).getPositive().getBucketCountsList().stream()
        .mapToLong(Long::longValue).sum()).isEqualTo(2);
  }
}
