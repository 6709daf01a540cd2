package dev.telemetry.gateway.analytics.anomaly;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class QuantilesTest {
  @Test
  void interpolatesWithinTheBucketLikeHistogramQuantile() {
    double[] bounds = {10, 100, 1000};
    assertThat(Quantiles.fromBuckets(bounds, new double[] {50, 50, 0, 0}, 0.5)).isEqualTo(10);
    assertThat(Quantiles.fromBuckets(bounds, new double[] {0, 100, 0, 0}, 0.99)).isEqualTo(10 + 90 * 0.99);
    assertThat(Quantiles.fromBuckets(bounds, new double[] {0, 0, 0, 5}, 0.99)).isEqualTo(1000);
    assertThat(Quantiles.fromBuckets(bounds, new double[] {0, 0, 0, 0}, 0.99)).isNaN();
    assertThat(Quantiles.name(0.99)).isEqualTo("99");
    assertThat(Quantiles.name(0.5)).isEqualTo("50");
    assertThat(Quantiles.name(0.999)).isEqualTo("999");
  }
}
