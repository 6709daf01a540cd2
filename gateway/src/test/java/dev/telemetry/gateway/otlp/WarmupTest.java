package dev.telemetry.gateway.otlp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.telemetry.gateway.receiver.otlp.ReceiverLimits;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WarmupTest {

  /** The warm-up must exercise the path real requests take: valid requests, nothing rejected, every item counted. */
  @Test
  void syntheticRequestsAreValidAndGoThroughEveryCodec() {
    Map<Signal, Message> requests = Map.of(Signal.TRACES, Warmup.traces(), Signal.LOGS, Warmup.logs(),
        Signal.METRICS, Warmup.metrics());
    long perRound = 0;
    for (Map.Entry<Signal, Message> e : requests.entrySet()) {
      OtlpValidator.Result v = OtlpValidator.validate(e.getKey(), e.getValue());
      assertThat(v.rejected()).as(e.getKey().id()).isZero();
      assertThat(v.accepted()).as(e.getKey().id()).isPositive().isEqualTo(e.getKey().itemCount(e.getValue()));
      perRound += 2L * v.accepted();
    }
    long jsonRound = perRound / 2;
    // Every 16th round, starting with the first, also goes through OTLP/JSON both ways: rounds 0 and 16 of 17.
    assertThat(Warmup.codecs(1, ReceiverLimits.DEFAULTS.items())).isEqualTo(perRound + jsonRound);
    assertThat(Warmup.codecs(17, ReceiverLimits.DEFAULTS.items())).isEqualTo(17 * perRound + 2 * jsonRound);
  }
}
