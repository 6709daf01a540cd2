package dev.telemetry.gateway.exporter.prometheus;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.telemetry.proto.prometheus.Label;
import dev.telemetry.proto.prometheus.TimeSeries;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * OTLP metrics → remote-write on any decodable request (twice, so delta state is exercised): never throws, and every
 * series is one Prometheus accepts — a valid metric name, valid label names in strictly ascending order, samples
 * and histograms in time order. A series Prometheus refuses would fail the whole remote-write request.
 */
class RemoteWriteTranslatorFuzzTest {
  private static final Pattern METRIC = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

  @FuzzTest(maxDuration = "5m")
  void translate(byte[] body) {
    ExportMetricsServiceRequest request;
    try {
      request = ExportMetricsServiceRequest.parseFrom(body);
    } catch (InvalidProtocolBufferException expected) {
      return;
    }
    RemoteWriteTranslator translator = new RemoteWriteTranslator(
        RemoteWriteTranslatorTest.config(100, Map.of("cluster", "c1")));
    for (long now : new long[] {1_700_000_000_000L, 1_700_000_060_000L}) {
      RemoteWriteTranslator.Translation t = translator.translate(request, now);
      for (SeriesData s : t.series()) {
        check(s.toProto());
      }
    }
  }

  private static void check(TimeSeries ts) {
    String previous = null;
    boolean named = false;
    for (Label l : ts.getLabelsList()) {
      assertThat(l.getName()).matches(LABEL);
      if (previous != null) {
        assertThat(l.getName()).isGreaterThan(previous);
      }
      previous = l.getName();
      if (l.getName().equals("__name__")) {
        named = true;
        assertThat(l.getValue()).matches(METRIC);
      }
    }
    assertThat(named).as("series has __name__: %s", ts.getLabelsList()).isTrue();
    for (int i = 1; i < ts.getSamplesCount(); i++) {
      assertThat(ts.getSamples(i).getTimestamp()).isGreaterThanOrEqualTo(ts.getSamples(i - 1).getTimestamp());
    }
    for (int i = 1; i < ts.getHistogramsCount(); i++) {
      assertThat(ts.getHistograms(i).getTimestamp()).isGreaterThanOrEqualTo(ts.getHistograms(i - 1).getTimestamp());
    }
  }
}
