package dev.telemetry.gateway.analytics.anomaly;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SeriesDetectorTest {
  static final long STEP = SyntheticSeries.STEP_MS;
  static final int DAY = SyntheticSeries.STEPS_PER_DAY;
  static final long START = SyntheticSeries.START_STEP;

  /** A daily-seasonal request count with Poisson-like noise. */
  static double normal(SplittableRandom r, int t) {
    double daily = 1 + 0.5 * Math.cos((t % DAY) / (double) DAY * 2 * Math.PI);
    double lambda = 500 * daily;
    return Math.round(lambda + Math.sqrt(lambda) * SyntheticSeries.gaussian(r));
  }

  static SeriesDetector detector(String method) {
    return new SeriesDetector(Baseline.create(method, STEP, Transform.COUNT), Transform.COUNT,
        Detection.DEFAULTS);
  }

  /** Feeds {@code days} of normal data; returns the opens. */
  static List<Integer> feed(SeriesDetector d, SplittableRandom r, int from, int to, java.util.function.IntToDoubleFunction
      effect) {
    List<Integer> opens = new ArrayList<>();
    for (int t = from; t < to; t++) {
      SeriesDetector.Verdict v = d.step(START + t, normal(r, t) * effect.applyAsDouble(t), Double.NaN, false);
      if (v.change() == SeriesDetector.Change.OPENED) {
        opens.add(t);
      }
    }
    return opens;
  }

  @ParameterizedTest
  @ValueSource(strings = {SeasonalMedianBaseline.METHOD, HoltWintersBaseline.METHOD})
  void aSpikeOpensAtItsStepAndClosesAfterTheCalmSteps(String method) {
    SplittableRandom r = new SplittableRandom(7);
    SeriesDetector d = detector(method);
    int spike = 15 * DAY + 100;
    assertThat(feed(d, r, 0, spike, t -> 1)).as("no alarm on normal data after the warm-up (two weeks, as in the "
        + "benchmark)").allMatch(t -> t < 14 * DAY);
    SeriesDetector.Verdict v = d.step(START + spike, normal(r, spike) * 5, Double.NaN, false);
    assertThat(v.change()).isEqualTo(SeriesDetector.Change.OPENED);
    assertThat(v.score()).isGreaterThan(6);
    assertThat(v.expected()).isBetween(normal(new SplittableRandom(1), spike) * 0.8,
        normal(new SplittableRandom(1), spike) * 1.2);
    SeriesDetector.Change last = null;
    int closedAt = -1;
    for (int t = spike + 1; t < spike + 10 && closedAt < 0; t++) {
      last = d.step(START + t, normal(r, t), Double.NaN, false).change();
      if (last == SeriesDetector.Change.CLOSED) {
        closedAt = t;
      }
    }
    assertThat(closedAt).as("closed after three calm steps").isEqualTo(spike + 3);
  }

  @Test
  void aLevelShiftOpensOnceAndTheNewLevelBecomesNormal() {
    SplittableRandom r = new SplittableRandom(11);
    SeriesDetector d = detector(SeasonalMedianBaseline.METHOD);
    int shift = 16 * DAY;
    feed(d, r, 0, shift, t -> 1);
    List<Integer> opens = feed(d, r, shift, shift + 3 * DAY, t -> 2.0);
    assertThat(opens).as("one anomaly for the shift (drift keeps it open while the level is off its norm)")
        .hasSize(1).allMatch(t -> t - shift < 12);
  }

  @Test
  void nothingOpensInAMaintenanceWindowAndAnOpenAnomalyCloses() {
    SplittableRandom r = new SplittableRandom(3);
    SeriesDetector d = detector(SeasonalMedianBaseline.METHOD);
    int at = 15 * DAY;
    feed(d, r, 0, at, t -> 1);
    assertThat(d.step(START + at, normal(r, at) * 6, Double.NaN, true).change()).isEqualTo(
        SeriesDetector.Change.NONE);
    assertThat(d.step(START + at + 1, normal(r, at + 1) * 6, Double.NaN, false).change())
        .isEqualTo(SeriesDetector.Change.OPENED);
    assertThat(d.step(START + at + 2, normal(r, at + 2) * 6, Double.NaN, true).change())
        .isEqualTo(SeriesDetector.Change.CLOSED);
  }

  @Test
  void aRatioOfFewEventsIsNotJudgedAndARatioIsJudgedNoFinerThanItsBinomialSpread() {
    Detection rules = Detection.DEFAULTS.withDirection(Detection.Direction.UP).withMinVolume(20);
    SeriesDetector d = new SeriesDetector(Baseline.create(SeasonalMedianBaseline.METHOD, STEP, Transform.LINEAR),
        Transform.LINEAR, rules);
    SplittableRandom r = new SplittableRandom(5);
    for (int t = 0; t < 15 * DAY; t++) {
      d.step(START + t, r.nextDouble() < 0.05 ? 0.01 : 0, 100, false);
    }
    // 1 error in 10 calls: too few calls to judge.
    assertThat(d.step(START + 15 * DAY, 0.1, 10, false).score()).isNaN();
    // 2 errors in 100 (expected ~0): within the binomial spread, not an anomaly.
    assertThat(d.step(START + 15 * DAY + 1, 0.02, 100, false).change()).isEqualTo(SeriesDetector.Change.NONE);
    // 40 in 100: an anomaly, critical.
    SeriesDetector.Verdict v = d.step(START + 15 * DAY + 2, 0.4, 100, false);
    assertThat(v.change()).isEqualTo(SeriesDetector.Change.OPENED);
    assertThat(v.critical()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {SeasonalMedianBaseline.METHOD, HoltWintersBaseline.METHOD})
  void aRestoredBaselineExpectsWhatTheOriginalDid(String method) {
    SplittableRandom r = new SplittableRandom(9);
    SeriesDetector d = detector(method);
    feed(d, r, 0, 9 * DAY, t -> 1);
    Baseline copy = Baseline.restore(method, STEP, Transform.COUNT, d.baseline().toJson());
    Baseline.Expectation a = d.baseline().expect(START + 9 * DAY);
    Baseline.Expectation b = copy.expect(START + 9 * DAY);
    assertThat(b).isNotNull();
    assertThat(b.expected()).isCloseTo(a.expected(), org.assertj.core.data.Offset.offset(1e-6));
    assertThat(b.scale()).isCloseTo(a.scale(), org.assertj.core.data.Offset.offset(1e-6));
    // State of another step size does not fit: a fresh baseline instead of a wrong one.
    assertThat(Baseline.restore(method, STEP * 2, Transform.COUNT, d.baseline().toJson()).expect(START)).isNull();
  }

  @Test
  void weekendsAreComparedWithWeekends() {
    // 2026-01-10 is a Saturday, 2026-01-12 a Monday.
    long saturday = java.time.Instant.parse("2026-01-10T12:00:00Z").toEpochMilli() / STEP;
    long monday = java.time.Instant.parse("2026-01-12T12:00:00Z").toEpochMilli() / STEP;
    assertThat(SeasonalMedianBaseline.weekend(saturday, STEP)).isTrue();
    assertThat(SeasonalMedianBaseline.weekend(monday, STEP)).isFalse();
    SeriesDetector d = detector(SeasonalMedianBaseline.METHOD);
    SplittableRandom r = new SplittableRandom(13);
    // Weekends carry a fifth of the weekday traffic: no alarm on the first weekend day after two weeks.
    List<Integer> opens = feed(d, r, 0, 21 * DAY, t -> SeasonalMedianBaseline.weekend(START + t, STEP) ? 0.2 : 1);
    assertThat(opens).allMatch(t -> t < 14 * DAY);
  }
}
