package dev.telemetry.gateway.analytics.slo;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The SLO file parser on arbitrary text: SLOs or an SloFileException naming its problems, nothing else; SLOs that
 * parse render as Prometheus rules (what {@code slo-rules} prints) without failing.
 */
class SloFileFuzzTest {
  static final SloFileParser.Catalog CATALOG = new SloFileParser.Catalog(
      List.<double[]>of(new double[] {5, 10, 25, 50, 100, 250, 500, 1000, 2500}));

  @FuzzTest(maxDuration = "5m")
  void parse(byte[] input) {
    String text = new String(input, StandardCharsets.UTF_8);
    List<Slo> slos;
    try {
      slos = SloFileParser.parse(text, CATALOG);
    } catch (SloFileParser.SloFileException expected) {
      assertThat(expected.problems()).isNotEmpty();
      return;
    }
    assertThat(PrometheusRules.render(slos, "fuzz")).isNotNull();
  }
}
