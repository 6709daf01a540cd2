package dev.telemetry.gateway.otlp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * What a receiver does with a protobuf body, on arbitrary bytes: the wire scan, decode, then validate. The scan
 * refuses as malformed only what protobuf cannot decode either (or groups, which OTLP never uses). Decoding may only fail with
 * InvalidProtocolBufferException (a 400); validation never throws, accounts for every item (accepted + rejected =
 * items), and what it passes on is valid again and still encodes.
 */
class OtlpProtobufFuzzTest {
  static final WireScan.Limits LIMITS = new WireScan.Limits(64, 64, 8);

  @FuzzTest(maxDuration = "5m")
  void traces(byte[] body) {
    decodeAndValidate(Signal.TRACES, body);
  }

  @FuzzTest(maxDuration = "5m")
  void metrics(byte[] body) {
    decodeAndValidate(Signal.METRICS, body);
  }

  @FuzzTest(maxDuration = "5m")
  void logs(byte[] body) {
    decodeAndValidate(Signal.LOGS, body);
  }

  static void decodeAndValidate(Signal signal, byte[] body) {
    // The receivers' wire scan first: it only refuses what protobuf refuses too, or groups, or a passed cap.
    WireScan.Refused scan = null;
    try {
      WireScan.scan(signal.emptyRequest().getDescriptorForType(), body, LIMITS);
    } catch (WireScan.Refused r) {
      scan = r;
    }
    Message request;
    try {
      request = signal.parseRequest(body);
    } catch (InvalidProtocolBufferException expected) {
      return;
    }
    if (scan != null && !scan.limit() && !scan.getMessage().contains("wire type")) {
      throw new AssertionError("the wire scan refused what protobuf decodes: " + scan.getMessage());
    }
    int items = signal.itemCount(request);
    OtlpValidator.Result result = OtlpValidator.validate(signal, request);
    assertThat(result.accepted() + result.rejected()).isEqualTo(items);
    assertThat(signal.itemCount(result.request())).isEqualTo(result.accepted());
    OtlpValidator.Result again = OtlpValidator.validate(signal, result.request());
    assertThat(again.rejected()).isZero();
    try {
      assertThat(signal.parseRequest(result.request().toByteArray())).isEqualTo(result.request());
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("a validated request does not re-decode", e);
    }
  }
}
