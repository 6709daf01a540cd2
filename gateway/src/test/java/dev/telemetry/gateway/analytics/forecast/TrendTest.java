package dev.telemetry.gateway.analytics.forecast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class TrendTest {
  @Test
  void aLineThroughTheWindowAndWhenItReachesTheLimit() {
    Trend t = new Trend(60_000);
    assertThat(t.slopePerSecond()).isNaN();
    for (int s = 0; s <= 120; s += 10) {
      t.add(s * 1000L, s < 60 ? 0 : 100 * (s - 60)); // flat, then 100 units/s: only the last minute counts
    }
    assertThat(t.spanMillis()).isEqualTo(60_000);
    assertThat(t.slopePerSecond()).isCloseTo(100, within(1e-9));
    assertThat(t.secondsUntil(5_000)).isCloseTo(50, within(1e-9));
    assertThat(t.secondsUntil(0)).isZero();
    Trend shrinking = new Trend(60_000);
    shrinking.add(0, 10);
    shrinking.add(1000, 5);
    assertThat(shrinking.secondsUntil(100)).isInfinite();
  }

  @Test
  void exhaustionTakesTheHoursBurnForShortHorizonsAndTheDaysForLongOnes() {
    double window = 30 * 86400;
    assertThat(Exhaustion.secondsLeft(0.01, window, 10, 1)).as("43 min at the hour's burn: a fresh incident")
        .isEqualTo(0.01 * window / 10);
    assertThat(Exhaustion.secondsLeft(0.5, window, 2, 1)).as("the hour says 7.5 days: the day's burn decides")
        .isEqualTo(0.5 * window / 1);
    assertThat(Exhaustion.secondsLeft(0.5, window, 2, Double.NaN)).isEqualTo(0.5 * window / 2);
    assertThat(Exhaustion.secondsLeft(0, window, 2, 1)).isZero();
    assertThat(Exhaustion.secondsLeft(0.5, window, 0, 0)).isInfinite();
  }
}
