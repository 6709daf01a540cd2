package dev.telemetry.gateway.processor.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Reading spans from their encoding must give exactly the entries decoding and re-encoding them gives. */
class EncodedSpansTest {
  static final Destination DEST = new Destination(List.of("otlp/jaeger"), null);

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  static ExportTraceServiceRequest request(Random r) {
    ExportTraceServiceRequest.Builder req = ExportTraceServiceRequest.newBuilder();
    for (int res = 0; res < 1 + r.nextInt(3); res++) {
      ResourceSpans.Builder rs = ResourceSpans.newBuilder().setResource(Resource.newBuilder()
          .addAttributes(kv("service.name", "svc-" + res)).setDroppedAttributesCount(res));
      if (r.nextBoolean()) {
        rs.setSchemaUrl("https://opentelemetry.io/schemas/1.26.0");
      }
      for (int sc = 0; sc < r.nextInt(3); sc++) {
        ScopeSpans.Builder ss = ScopeSpans.newBuilder();
        if (r.nextBoolean()) {
          ss.setScope(InstrumentationScope.newBuilder().setName("lib-" + sc).setVersion("1.2"))
              .setSchemaUrl("https://example.com/" + sc);
        }
        for (int i = 0; i < r.nextInt(6); i++) {
          byte[] trace = new byte[16];
          byte[] span = new byte[8];
          r.nextBytes(trace);
          r.nextBytes(span);
          Span.Builder s = Span.newBuilder().setTraceId(ByteString.copyFrom(trace))
              .setSpanId(ByteString.copyFrom(span)).setName("op-" + i + " ü")
              .setKindValue(r.nextInt(6)).setStartTimeUnixNano(r.nextLong()).setEndTimeUnixNano(r.nextLong())
              .setFlags(r.nextInt()).addAttributes(kv("http.route", "/r/" + i))
              .addAttributes(KeyValue.newBuilder().setKey("http.response.status_code")
                  .setValue(AnyValue.newBuilder().setIntValue(200 + i)))
              .addEvents(Span.Event.newBuilder().setName("exception").addAttributes(kv("http.route", "no")));
          if (r.nextBoolean()) {
            s.setTraceState("vendor=x" + i);
          }
          if (r.nextBoolean()) {
            s.setStatus(Status.newBuilder().setCodeValue(r.nextInt(3)).setMessage("m"));
          }
          if (r.nextBoolean()) {
            s.setParentSpanId(ByteString.copyFrom(span)).addAttributes(kv("user.id", "u" + i));
          }
          ss.addSpans(s);
        }
        rs.addScopeSpans(ss);
      }
      req.addResourceSpans(rs);
    }
    return req.build();
  }

  /** What the sampler builds from a decoded request. */
  static List<Incoming> decoded(ExportTraceServiceRequest request, Set<String> keys, boolean keepName) {
    List<Incoming> out = new ArrayList<>();
    for (ResourceSpans rs : request.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          out.add(new Incoming(s.getTraceId(), Trace.Entry.of(rs.getResource(), rs.getSchemaUrl(), ss.getScope(),
              ss.getSchemaUrl(), s, keys, keepName, TailSampler.charge(s), DEST)));
        }
      }
    }
    return out;
  }

  @Test
  void readingTheEncodingGivesTheEntriesDecodingGives() throws Exception {
    Random r = new Random(42);
    List<Set<String>> keySets = new ArrayList<>();
    keySets.add(null);
    keySets.add(Set.of());
    keySets.add(Set.of("http.route", "absent"));
    keySets.add(Set.of("user.id"));
    int spans = 0;
    for (int i = 0; i < 300; i++) {
      ExportTraceServiceRequest request = request(r);
      for (Set<String> keys : keySets) {
        for (boolean keepName : new boolean[] {false, true}) {
          EncodedSpans read = EncodedSpans.read(request.toByteString(), keys, keepName, DEST);
          assertThat(read.spans).isEqualTo(decoded(request, keys, keepName));
          assertThat(read.spanCount()).isEqualTo(read.spans.size());
          spans += read.spanCount();
        }
      }
    }
    assertThat(spans).isGreaterThan(1000);
  }

  @Test
  void fieldsInAnyOrderAndRepeatedAreReadAsProtobufReadsThem() throws Exception {
    Span span = Span.newBuilder().setTraceId(ByteString.copyFrom(new byte[16])).setName("late")
        .setStatus(Status.newBuilder().setCodeValue(2)).build();
    Resource resource = Resource.newBuilder().addAttributes(kv("service.name", "after")).build();
    // A scope_spans before its resource_spans' resource, and a status repeated without a code (a merge keeps 2).
    ByteArrayOutputStream spanBytes = new ByteArrayOutputStream();
    CodedOutputStream so = CodedOutputStream.newInstance(spanBytes);
    span.writeTo(so);
    so.writeMessage(15, Status.newBuilder().setMessage("again").build());
    so.flush();
    ByteString scope = ScopeSpans.newBuilder().build().toByteString()
        .concat(bytesField(2, ByteString.copyFrom(spanBytes.toByteArray())));
    ByteString resourceSpans = bytesField(2, scope).concat(bytesField(1, resource.toByteString()));
    ByteString request = bytesField(1, resourceSpans);

    ExportTraceServiceRequest parsed = ExportTraceServiceRequest.parseFrom(request);
    List<Incoming> read = EncodedSpans.read(request, null, true, DEST).spans;
    assertThat(read).hasSize(1);
    Trace.Entry e = read.get(0).entry();
    Trace.Entry expected = decoded(parsed, null, true).get(0).entry();
    assertThat(e.resource()).isEqualTo(resource).isEqualTo(expected.resource());
    assertThat(e.statusCode()).isEqualTo(2).isEqualTo(expected.statusCode());
    assertThat(e.name()).isEqualTo("late");
    // Bytes as they came: the sampler later parses them, as it parses its own encoding.
    assertThat(Span.parseFrom(e.encoded())).isEqualTo(Span.parseFrom(expected.encoded()));
  }

  @Test
  void malformedInputIsRefusedNotMisread() {
    ByteString truncated = request(new Random(1)).toByteString();
    ByteString cut = truncated.substring(0, truncated.size() - 3);
    assertThatThrownBy(() -> EncodedSpans.read(cut, null, false, DEST))
        .isInstanceOf(InvalidProtocolBufferException.class);
    ByteString badUtf8 = bytesField(1, bytesField(2, bytesField(2, bytesField(3,
        ByteString.copyFrom(new byte[] {(byte) 0xC3, (byte) 0x28})))));
    assertThatThrownBy(() -> EncodedSpans.read(badUtf8, null, false, DEST))
        .isInstanceOf(InvalidProtocolBufferException.class);
  }

  @Test
  void aValidatingReadGivesUpOnAnInvalidIdAndOtherwiseReadsTheSame() throws Exception {
    Random r = new Random(11);
    for (int i = 0; i < 100; i++) {
      ExportTraceServiceRequest request = request(r);
      EncodedSpans plain = EncodedSpans.read(request.toByteString(), null, true, DEST);
      EncodedSpans checked = EncodedSpans.read(request.toByteString(), null, true, DEST, List.of(), true);
      assertThat(checked.spans).isEqualTo(plain.spans);
    }
    Span good = Span.newBuilder().setTraceId(ByteString.copyFrom(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        13, 14, 15, 16})).setSpanId(ByteString.copyFrom(new byte[] {1, 2, 3, 4, 5, 6, 7, 8})).build();
    assertThat(EncodedSpans.read(wrap(good), null, false, DEST, List.of(), true)).isNotNull();
    for (Span bad : List.of(good.toBuilder().setTraceId(good.getTraceId().substring(1)).build(),
        good.toBuilder().setTraceId(ByteString.copyFrom(new byte[16])).build(),
        good.toBuilder().clearSpanId().build(),
        good.toBuilder().setSpanId(ByteString.copyFrom(new byte[8])).build(),
        good.toBuilder().setParentSpanId(ByteString.copyFrom(new byte[3])).build())) {
      assertThat(dev.telemetry.gateway.otlp.OtlpValidator.validate(dev.telemetry.gateway.otlp.Signal.TRACES,
          ExportTraceServiceRequest.parseFrom(wrap(bad))).rejected()).isEqualTo(1);
      assertThat(EncodedSpans.read(wrap(bad), null, false, DEST, List.of(), true)).as("%s", bad).isNull();
      assertThat(EncodedSpans.read(wrap(bad), null, false, DEST)).as("not validating").isNotNull();
    }
  }

  @Test
  void processorsSeeEveryResourceAndSpanInOrderAndTheirOutputIsWhatIsRead() throws Exception {
    // One processor adds an attribute to every span, the next renames spans it can see were tagged by the first.
    KeyValue tag = kv("seen", "yes");
    dev.telemetry.gateway.processor.EncodedSpanProcessor tagging = new TestProcessor(
        s -> s.concat(Span.newBuilder().addAttributes(tag).build().toByteString()),
        res -> res.toBuilder().addAttributes(tag).build());
    dev.telemetry.gateway.processor.EncodedSpanProcessor renaming = new TestProcessor(s -> {
      Span span = Span.parseFrom(s);
      return span.getAttributesList().contains(tag) ? span.toBuilder().setName("renamed").build().toByteString() : s;
    }, res -> res);
    Random r = new Random(5);
    for (int i = 0; i < 50; i++) {
      ExportTraceServiceRequest request = request(r);
      ExportTraceServiceRequest.Builder expected = request.toBuilder();
      for (ResourceSpans.Builder rs : expected.getResourceSpansBuilderList()) {
        rs.getResourceBuilder().addAttributes(tag);
        for (ScopeSpans.Builder ss : rs.getScopeSpansBuilderList()) {
          for (Span.Builder sp : ss.getSpansBuilderList()) {
            sp.addAttributes(tag).setName("renamed");
          }
        }
      }
      List<Incoming> read = EncodedSpans.read(request.toByteString(), null, true, DEST, List.of(tagging, renaming),
          true).spans;
      List<Incoming> want = decoded(expected.build(), null, true);
      assertThat(read).hasSameSizeAs(want);
      for (int k = 0; k < read.size(); k++) {
        Trace.Entry got = read.get(k).entry();
        assertThat(got.resource()).isEqualTo(want.get(k).entry().resource());
        assertThat(got.name()).isEqualTo("renamed");
        assertThat(Span.parseFrom(got.encoded())).isEqualTo(Span.parseFrom(want.get(k).entry().encoded()));
      }
    }
  }

  /** A processor of encoded spans from two functions. */
  private record TestProcessor(IoFunction<ByteString, ByteString> span,
                               java.util.function.UnaryOperator<Resource> res)
      implements dev.telemetry.gateway.processor.EncodedSpanProcessor {
    @Override
    public boolean takesEncodedSpans() {
      return true;
    }

    @Override
    public ByteString span(ByteString s) throws java.io.IOException {
      return span.apply(s);
    }

    @Override
    public Resource resource(Resource resource) {
      return res.apply(resource);
    }
  }

  private interface IoFunction<A, B> {
    B apply(A a) throws java.io.IOException;
  }

  private static ByteString wrap(Span span) {
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .addScopeSpans(ScopeSpans.newBuilder().addSpans(span))).build().toByteString();
  }

  @Test
  void allTracesAsksOncePerRunOfATrace() throws Exception {
    ExportTraceServiceRequest request = request(new Random(3));
    EncodedSpans read = EncodedSpans.read(request.toByteString(), Set.of(), false, DEST);
    List<ByteString> asked = new ArrayList<>();
    assertThat(read.allTraces(id -> asked.add(id))).isTrue();
    assertThat(asked).hasSize(read.spanCount()); // random trace IDs: every span starts a run
    assertThat(read.allTraces(id -> false)).isEqualTo(read.spanCount() == 0);
  }

  private static ByteString bytesField(int field, ByteString value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      CodedOutputStream c = CodedOutputStream.newInstance(out);
      c.writeBytes(field, value);
      c.flush();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    return ByteString.copyFrom(out.toByteArray());
  }
}
