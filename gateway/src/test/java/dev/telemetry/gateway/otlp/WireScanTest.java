package dev.telemetry.gateway.otlp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.ArrayValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;

class WireScanTest {
  static final WireScan.Limits LIMITS = new WireScan.Limits(8, 5, 3);

  static KeyValue kv(String k, AnyValue v) {
    return KeyValue.newBuilder().setKey(k).setValue(v).build();
  }

  static AnyValue s(String v) {
    return AnyValue.newBuilder().setStringValue(v).build();
  }

  static byte[] spanWith(int attributes) {
    Span.Builder span = Span.newBuilder().setName("s");
    for (int i = 0; i < attributes; i++) {
      span.addAttributes(kv("k" + i, s("v")));
    }
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .addScopeSpans(ScopeSpans.newBuilder().addSpans(Span.newBuilder().setName("first")).addSpans(span)))
        .build().toByteArray();
  }

  static WireScan.Shape scan(Signal signal, byte[] bytes) throws WireScan.Refused {
    return WireScan.scan(signal.emptyRequest().getDescriptorForType(), bytes, LIMITS);
  }

  @Test
  void countsWhatDecodingAllocatesAndAcceptsWithinTheCaps() throws Exception {
    WireScan.Shape shape = scan(Signal.TRACES, spanWith(8));
    // request, resource_spans, scope_spans, 2 spans, 8 × (KeyValue + AnyValue)
    assertThat(shape.messages()).isEqualTo(1 + 1 + 1 + 2 + 16);
    assertThat(shape.scalars()).isEqualTo(2 + 8 * 2); // names; keys and string values
  }

  @Test
  void tooManyAttributesNamesTheItemAndTheSetting() {
    assertThatThrownBy(() -> scan(Signal.TRACES, spanWith(9)))
        .isInstanceOfSatisfying(WireScan.Refused.class, r -> assertThat(r.limit()).isTrue())
        .hasMessage("resource_spans[0].scope_spans[0].spans[1].attributes: more than 8 entries "
            + "(limits.max_attributes)");
  }

  @Test
  void arraysAndNestingAreCapped() {
    ArrayValue.Builder six = ArrayValue.newBuilder();
    for (int i = 0; i < 6; i++) {
      six.addValues(s("x"));
    }
    byte[] wide = logWith(AnyValue.newBuilder().setArrayValue(six).build());
    assertThatThrownBy(() -> scan(Signal.LOGS, wide)).hasMessage(
        "resource_logs[0].scope_logs[0].log_records[0].body.array_value.values: more than 5 entries "
            + "(limits.max_array_length)");
    AnyValue deep = s("leaf");
    for (int i = 0; i < 3; i++) {
      deep = AnyValue.newBuilder().setArrayValue(ArrayValue.newBuilder().addValues(deep)).build();
    }
    byte[] nested = logWith(deep);
    assertThatThrownBy(() -> scan(Signal.LOGS, nested)).hasMessageContaining("body.array_value.values[0]")
        .hasMessageEndingWith("values nested more than 3 deep (limits.max_value_depth)");
  }

  static byte[] logWith(AnyValue body) {
    return ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder().addScopeLogs(
        ScopeLogs.newBuilder().addLogRecords(LogRecord.newBuilder().setBody(body)))).build().toByteArray();
  }

  @Test
  void tenMillionEmptyAttributesAreChargedAsObjectsNotBytes() throws Exception {
    // 0x0a 0x00 repeated: an empty KeyValue per 2 bytes, inside one span.
    ByteArrayOutputStream attrs = new ByteArrayOutputStream();
    for (int i = 0; i < 1000; i++) {
      attrs.write(new byte[] {(byte) 0x4a, 0});
    }
    byte[] span = attrs.toByteArray();
    WireScan.Shape shape = WireScan.scan(Signal.TRACES.emptyRequest().getDescriptorForType(),
        ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(
            ScopeSpans.newBuilder().addSpans(Span.parseFrom(span)))).build().toByteArray(),
        new WireScan.Limits(100_000, 10, 3));
    assertThat(shape.messages()).isGreaterThan(1000);
    assertThat(shape.heapBytes(2000)).isGreaterThan(Signal.TRACES.parsedHeapBytes(2000));
  }

  @Test
  void malformedBytesAndGroupsAreRefusedAsMalformed() {
    for (byte[] bad : new byte[][] {{0x0a, 0x05, 1}, {(byte) 0x80}, {0x0b, 0x0c}, {0x0a, (byte) 0xff, (byte) 0xff,
        (byte) 0xff, (byte) 0xff, (byte) 0x7f}}) {
      assertThatThrownBy(() -> scan(Signal.TRACES, bad))
          .isInstanceOfSatisfying(WireScan.Refused.class, r -> assertThat(r.limit()).isFalse());
    }
  }

  @Test
  void unknownFieldsAreSkipped() throws Exception {
    byte[] known = spanWith(1);
    byte[] withUnknown = new byte[known.length + 4];
    System.arraycopy(known, 0, withUnknown, 0, known.length);
    System.arraycopy(new byte[] {(byte) 0xfa, 0x3e, 1, 'x'}, 0, withUnknown, known.length, 4); // field 999, len 1
    assertThat(scan(Signal.TRACES, withUnknown).messages()).isEqualTo(scan(Signal.TRACES, known).messages());
    assertThat(ByteString.copyFrom(withUnknown)).isNotNull();
  }

  @Test
  void stringsThatAreNotUtf8AreRefusedWhereTheyAreAsDecodingRefusesThem() throws Exception {
    byte[] good = spanWith(2);
    // The second span's second attribute value "v" becomes 0xff: not UTF-8 (a string field), where bytes fields
    // (trace IDs) may hold anything.
    int at = -1;
    for (int i = good.length - 1; i >= 0; i--) {
      if (good[i] == 'v') {
        at = i;
        break;
      }
    }
    byte[] bad = good.clone();
    bad[at] = (byte) 0xff;
    assertThatThrownBy(() -> ExportTraceServiceRequest.parseFrom(bad))
        .isInstanceOf(com.google.protobuf.InvalidProtocolBufferException.class);
    assertThatThrownBy(() -> scan(Signal.TRACES, bad))
        .isInstanceOfSatisfying(WireScan.Refused.class, r -> assertThat(r.limit()).isFalse())
        .hasMessage("resource_spans[0].scope_spans[0].spans[1].attributes[1].value.string_value: a string that is "
            + "not valid UTF-8");
    byte[] ids = ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .addScopeSpans(ScopeSpans.newBuilder().addSpans(Span.newBuilder()
            .setTraceId(ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xfe}))))).build().toByteArray();
    assertThat(scan(Signal.TRACES, ids).messages()).isEqualTo(4);
  }
}
