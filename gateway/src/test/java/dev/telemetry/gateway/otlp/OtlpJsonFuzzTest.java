package dev.telemetry.gateway.otlp;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The OTLP/JSON codec. Parsing arbitrary bytes fails only with OtlpJsonException (a 400); what parses round-trips:
 * parse → write → parse gives the same message. From the other side, any decodable protobuf request written as
 * JSON parses back to a message that writes the same JSON (unknown protobuf fields are the only thing JSON drops).
 */
class OtlpJsonFuzzTest {
  private static final List<Signal> SIGNALS = List.of(Signal.values());

  @FuzzTest(maxDuration = "5m")
  void parseWriteParse(FuzzedDataProvider data) {
    Signal signal = data.pickValue(SIGNALS);
    byte[] json = data.consumeRemainingAsBytes();
    Message first;
    try {
      first = OtlpJson.parse(json, signal.newRequestBuilder());
    } catch (OtlpJsonException expected) {
      return;
    }
    byte[] written = OtlpJson.write(first);
    Message second;
    try {
      second = OtlpJson.parse(written, signal.newRequestBuilder());
    } catch (OtlpJsonException e) {
      throw new AssertionError("the gateway's own JSON does not parse: "
          + new String(written, StandardCharsets.UTF_8), e);
    }
    assertThat(second).isEqualTo(first);
  }

  @FuzzTest(maxDuration = "5m")
  void protobufToJson(FuzzedDataProvider data) {
    Signal signal = data.pickValue(SIGNALS);
    Message request;
    try {
      request = signal.parseRequest(data.consumeRemainingAsBytes());
    } catch (InvalidProtocolBufferException expected) {
      return;
    }
    byte[] json = OtlpJson.write(request);
    Message back;
    try {
      back = OtlpJson.parse(json, signal.newRequestBuilder());
    } catch (OtlpJsonException e) {
      throw new AssertionError("a decoded request written as JSON does not parse: "
          + new String(json, StandardCharsets.UTF_8), e);
    }
    assertThat(new String(OtlpJson.write(back), StandardCharsets.UTF_8))
        .isEqualTo(new String(json, StandardCharsets.UTF_8));
  }
}
