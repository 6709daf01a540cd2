package dev.telemetry.gateway.analytics.forecast;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.connector.genai.CostProjectionBacktest;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The forecasts' back-tests as a regression gate (seeded, no clock): the errors docs/anomaly.md reports, with a
 * margin, and the burn-window choice {@link Exhaustion} makes holding against each single window.
 */
class ForecastBacktestTest {
  static final long SEED = 20261202L;

  @Test
  void queueDiskFullIsForecastWithinAFewPercentForTheNextHours() {
    List<List<Double>> e = ForecastBacktest.queueDisk(SEED, 200);
    assertThat(ForecastBacktest.quantile(e.get(1), 0.5)).as("15 min – 1 h, median").isLessThan(0.05);
    assertThat(ForecastBacktest.quantile(e.get(2), 0.5)).as("1 – 4 h, median").isLessThan(0.08);
    assertThat(ForecastBacktest.quantile(e.get(2), 0.9)).as("1 – 4 h, p90").isLessThan(0.16);
  }

  @Test
  void budgetExhaustionUsesTheBetterBurnWindowForEachHorizon() {
    List<List<List<Double>>> e = ForecastBacktest.budgetExhaustion(SEED, 200);
    List<List<Double>> hour = e.get(0);
    List<List<Double>> day = e.get(2);
    List<List<Double>> chosen = e.get(3);
    for (int bucket = 0; bucket < ForecastBacktest.BUCKETS.length; bucket++) {
      if (chosen.get(bucket).isEmpty()) {
        continue;
      }
      double best = Math.min(ForecastBacktest.quantile(hour.get(bucket), 0.5),
          ForecastBacktest.quantile(day.get(bucket), 0.5));
      assertThat(ForecastBacktest.quantile(chosen.get(bucket), 0.5)).as(ForecastBacktest.NAMES[bucket])
          .isLessThanOrEqualTo(best * 1.05);
    }
    assertThat(ForecastBacktest.quantile(chosen.get(1), 0.5)).as("15 min – 1 h").isLessThan(0.1);
    assertThat(ForecastBacktest.quantile(chosen.get(4), 0.5)).as("1 – 30 days").isLessThan(0.05);
  }

  @Test
  void monthEndCostGetsCloserAsTheMonthGoesOn() {
    CostProjectionBacktest.Result r = CostProjectionBacktest.run(SEED, 200);
    double[] medians = new double[CostProjectionBacktest.DAYS.length];
    for (int i = 0; i < medians.length; i++) {
      medians[i] = CostProjectionBacktest.quantile(r.ledger()[i], 0.5);
    }
    assertThat(medians[1]).as("day 7").isLessThan(0.1);
    assertThat(medians[2]).as("day 14").isLessThan(0.06);
    assertThat(medians[4]).as("day 28").isLessThan(0.015);
    for (int i = 1; i < medians.length; i++) {
      assertThat(medians[i]).isLessThan(medians[i - 1]);
    }
  }
}
