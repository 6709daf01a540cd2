package dev.telemetry.gateway.processor.redaction;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.processor.redaction.RedactionProcessorConfig.Action;
import dev.telemetry.gateway.processor.redaction.RedactionProcessorConfig.Rule;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Blocked-key redaction of spans still encoded must decode to what the typed path gives for the decoded request, span
 * by span and resource by resource, count the same, and hand back an untouched span as the same instance.
 */
class EncodedRedactionTest {
  static final String SECRET = "0123456789abcdef-secret";

  static RedactionProcessorConfig blockedOnly(Action action) {
    return new RedactionProcessorConfig("r", List.of(), List.of("^pass.*", "token", "user\\.email"), action, SECRET,
        List.of(), false);
  }

  @ParameterizedTest
  @EnumSource(Action.class)
  void encodedAndDecodedRedactionAgree(Action action) throws Exception {
    SimpleMeterRegistry typedMeters = new SimpleMeterRegistry();
    SimpleMeterRegistry encodedMeters = new SimpleMeterRegistry();
    RedactionProcessor typed = new RedactionProcessor(blockedOnly(action), typedMeters);
    RedactionProcessor encoded = new RedactionProcessor(blockedOnly(action), encodedMeters);
    assertThat(encoded.takesEncodedSpans()).isTrue();
    Random r = new Random(action.ordinal());
    int changed = 0;
    int untouched = 0;
    for (int round = 0; round < 400; round++) {
      ExportTraceServiceRequest request = TypedRedactionEquivalenceTest.request(r);
      ExportTraceServiceRequest expected = (ExportTraceServiceRequest) typed.process(Signal.TRACES, request);
      for (int i = 0; i < request.getResourceSpansCount(); i++) {
        ResourceSpans in = request.getResourceSpans(i);
        ResourceSpans out = expected.getResourceSpans(i);
        assertThat(encoded.resource(in.getResource())).isEqualTo(out.getResource());
        for (int j = 0; j < in.getScopeSpansCount(); j++) {
          for (int k = 0; k < in.getScopeSpans(j).getSpansCount(); k++) {
            Span span = in.getScopeSpans(j).getSpans(k);
            Span want = out.getScopeSpans(j).getSpans(k);
            ByteString bytes = span.toByteString();
            ByteString got = encoded.span(bytes);
            assertThat(Span.parseFrom(got)).as("round %d", round).isEqualTo(want);
            if (want == span) {
              assertThat(got).isSameAs(bytes);
              untouched++;
            } else {
              assertThat(got).isNotSameAs(bytes);
              changed++;
            }
          }
        }
      }
    }
    assertThat(changed).isGreaterThan(200);
    assertThat(untouched).isGreaterThan(100);
    assertThat(encodedMeters.find("gateway.processor.redaction.redactions").tag("rule", "blocked_key").counter()
        .count()).isEqualTo(typedMeters.find("gateway.processor.redaction.redactions").tag("rule", "blocked_key")
            .counter().count()).isPositive();
  }

  @Test
  void fieldsInAnyOrderAreRewrittenWhereTheyAre() throws Exception {
    RedactionProcessor p = new RedactionProcessor(blockedOnly(Action.HASH), new SimpleMeterRegistry());
    KeyValue email = kv("user.email", "jane@example.com");
    // Attributes before and after the name, an event between them, a link at the start: a sender may order fields
    // any way, and repeated fields may be interleaved with others.
    ByteString span = Span.newBuilder().addLinks(Span.Link.newBuilder().addAttributes(kv("token", "t0k")))
        .build().toByteString()
        .concat(Span.newBuilder().addAttributes(email).addAttributes(kv("http.route", "/a")).build().toByteString())
        .concat(Span.newBuilder().setName("checkout").addEvents(Span.Event.newBuilder().setName("e")
            .addAttributes(kv("password", "hunter2"))).build().toByteString())
        .concat(Span.newBuilder().addAttributes(kv("user.email", "bob@example.org")).build().toByteString());
    Span decoded = Span.parseFrom(span);
    Span expected = (Span) ((ExportTraceServiceRequest) p.process(Signal.TRACES, wrap(decoded)))
        .getResourceSpans(0).getScopeSpans(0).getSpans(0);
    Span got = Span.parseFrom(p.span(span));
    assertThat(got).isEqualTo(expected);
    assertThat(got.getAttributes(0).getValue().getStringValue()).startsWith("hmac:");
    assertThat(got.getAttributes(1)).isEqualTo(kv("http.route", "/a"));
    assertThat(got.getEvents(0).getAttributes(0).getValue().getStringValue()).startsWith("hmac:");
    assertThat(got.getLinks(0).getAttributes(0).getValue().getStringValue()).startsWith("hmac:");
    // A blocked key with a value that is not a string: hashed from its text, as the typed path does.
    ByteString number = Span.newBuilder().addAttributes(KeyValue.newBuilder().setKey("token")
        .setValue(AnyValue.newBuilder().setIntValue(42))).build().toByteString();
    assertThat(Span.parseFrom(p.span(number))).isEqualTo(((ExportTraceServiceRequest) p.process(Signal.TRACES,
        wrap(Span.parseFrom(number)))).getResourceSpans(0).getScopeSpans(0).getSpans(0));
  }

  @Test
  void aKeyValueLaidOutUnusuallyIsJudgedByTheKeyDecodingSees() throws Exception {
    RedactionProcessor p = new RedactionProcessor(blockedOnly(Action.MASK), new SimpleMeterRegistry());
    KeyValue value = KeyValue.newBuilder().setValue(AnyValue.newBuilder().setStringValue("hunter2")).build();
    List<ByteString> layouts = List.of(
        // key "safe", then key "password": the last one counts
        KeyValue.newBuilder().setKey("safe").build().toByteString().concat(kv("password", "hunter2").toByteString()),
        // the value first, then the key
        value.toByteString().concat(KeyValue.newBuilder().setKey("password").build().toByteString()),
        // key, value, and the key again (a blocked key, then a harmless one: harmless wins)
        kv("password", "hunter2").toByteString().concat(KeyValue.newBuilder().setKey("safe").build().toByteString()),
        // a key of 130 bytes (its length takes two bytes)
        kv("password" + "x".repeat(122), "hunter2").toByteString());
    for (ByteString layout : layouts) {
      ByteString span = bytesField(9, layout);
      Span expected = ((ExportTraceServiceRequest) p.process(Signal.TRACES, wrap(Span.parseFrom(span))))
          .getResourceSpans(0).getScopeSpans(0).getSpans(0);
      assertThat(Span.parseFrom(p.span(span))).as("%s", KeyValue.parseFrom(layout)).isEqualTo(expected);
    }
    // Twice the same key: the verdict by bytes is the verdict by string.
    ByteString twice = Span.newBuilder().addAttributes(kv("token", "a")).addAttributes(kv("token", "b")).build()
        .toByteString();
    assertThat(Span.parseFrom(p.span(twice)).getAttributesList()).extracting(a -> a.getValue().getStringValue())
        .containsExactly("****", "****");
  }

  private static ByteString bytesField(int field, ByteString value) throws java.io.IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    com.google.protobuf.CodedOutputStream c = com.google.protobuf.CodedOutputStream.newInstance(out);
    c.writeBytes(field, value);
    c.flush();
    return ByteString.copyFrom(out.toByteArray());
  }

  @Test
  void onlyBlockedKeysAreDoneEncoded() {
    SimpleMeterRegistry m = new SimpleMeterRegistry();
    assertThat(new RedactionProcessor(new RedactionProcessorConfig("r", List.of(), List.of("token"), Action.MASK,
        null, List.of(), true), m).takesEncodedSpans()).as("summary attribute").isFalse();
    assertThat(new RedactionProcessor(new RedactionProcessorConfig("r", List.of("a"), List.of(), Action.MASK,
        null, List.of(), false), m).takesEncodedSpans()).as("allow-list").isFalse();
    assertThat(new RedactionProcessor(new RedactionProcessorConfig("r", List.of(), List.of(), Action.MASK, null,
        List.of(new Rule("e", "email", null, Action.MASK, Set.of(), Set.of())), false), m).takesEncodedSpans())
        .as("a rule on values").isFalse();
    assertThat(new RedactionProcessor(new RedactionProcessorConfig("r", List.of(), List.of(), Action.MASK, null,
        List.of(new Rule("e", "email", null, Action.MASK, Set.of(Signal.LOGS), Set.of())), false), m)
        .takesEncodedSpans()).as("a rule for logs only").isTrue();
  }

  static KeyValue kv(String k, String v) {
    return TypedRedactionEquivalenceTest.kv(k, v);
  }

  static ExportTraceServiceRequest wrap(Span span) {
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .setResource(Resource.getDefaultInstance()).addScopeSpans(ScopeSpans.newBuilder().addSpans(span))).build();
  }
}
