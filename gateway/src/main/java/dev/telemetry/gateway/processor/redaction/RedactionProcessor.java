package dev.telemetry.gateway.processor.redaction;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.re2j.Pattern;
import dev.telemetry.gateway.processor.redaction.RedactionProcessorConfig;
import dev.telemetry.gateway.processor.redaction.RedactionProcessorConfig.Action;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.processor.EncodedSpanProcessor;
import dev.telemetry.gateway.processor.Processor;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.ArrayValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.common.v1.KeyValueList;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Removes personal and secret data from every place OTLP carries free text: attributes of resources, spans, span
 * events and links, log records and metric data points (and exemplars), span names and log bodies (string or
 * structured), which covers {@code db.query.text} and friends. Three mechanisms, applied in this order to each
 * attribute: an allow-list of item attribute keys (others are dropped), blocked key patterns (the whole value is
 * redacted), and rules that find values inside strings. Actions: {@code mask} ({@code ****}), {@code hash}
 * (HMAC-SHA256 with a secret key, 16 hex chars: equal inputs stay correlatable, the value is gone), {@code drop} (the
 * attribute, or the matched text in names and bodies).
 */
public final class RedactionProcessor implements Processor, EncodedSpanProcessor {
  static final String MASK = "****";
  private static final java.util.HexFormat HEX = java.util.HexFormat.of();
  static final String SUMMARY_ATTRIBUTE = "redaction.count";
  private static final Set<String> ITEM_TYPES = Set.of("opentelemetry.proto.trace.v1.Span",
      "opentelemetry.proto.trace.v1.Span.Event", "opentelemetry.proto.trace.v1.Span.Link",
      "opentelemetry.proto.logs.v1.LogRecord", "opentelemetry.proto.metrics.v1.NumberDataPoint",
      "opentelemetry.proto.metrics.v1.HistogramDataPoint",
      "opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint",
      "opentelemetry.proto.metrics.v1.SummaryDataPoint", "opentelemetry.proto.metrics.v1.Exemplar");
  private static final Set<String> SUMMARY_TYPES = Set.of("opentelemetry.proto.trace.v1.Span",
      "opentelemetry.proto.logs.v1.LogRecord");

  private final RedactionProcessorConfig config;
  private final Map<Signal, List<Rule>> rulesBySignal = new EnumMap<>(Signal.class);
  private final List<Pattern> blocked = new ArrayList<>();
  private final Set<String> allowed;
  private final Counter notAllowed;
  private final Counter blockedKey;
  private final ThreadLocal<Mac> mac;
  /**
   * Whether a key is blocked, by key. Attribute keys repeat across spans (semantic conventions), so each distinct key
   * runs the patterns once instead of once per attribute; the map stops growing at {@link #KEY_CACHE_LIMIT} so that
   * senders inventing keys cannot grow the heap (those keys are then matched every time, still correct).
   */
  private final java.util.concurrent.ConcurrentHashMap<String, Boolean> blockedKeys =
      new java.util.concurrent.ConcurrentHashMap<>();
  static final int KEY_CACHE_LIMIT = 4096;

  /** A compiled rule with its counter. */
  record Rule(String name, Detector detector, Action action, Set<String> services, Counter counter) {
  }

  public RedactionProcessor(RedactionProcessorConfig config, MeterRegistry registry) {
    this.config = config;
    this.allowed = Set.copyOf(config.allowedKeys());
    for (String p : config.blockedKeys()) {
      blocked.add(Pattern.compile("(?i)" + p));
    }
    for (Signal s : Signal.values()) {
      rulesBySignal.put(s, new ArrayList<>());
    }
    for (RedactionProcessorConfig.Rule r : config.rules()) {
      Detector d = r.detector() != null ? Detectors.BUILT_IN.get(r.detector())
          : new Detector(r.name(), s -> true, Pattern.compile(r.pattern()), null);
      Rule rule = new Rule(r.name(), d, r.action(), r.services(), counter(registry, r.name()));
      for (Signal s : Signal.values()) {
        if (r.signals().isEmpty() || r.signals().contains(s)) {
          rulesBySignal.get(s).add(rule);
        }
      }
    }
    notAllowed = counter(registry, "not_allowed");
    blockedKey = counter(registry, "blocked_key");
    byte[] key = config.hashKey() == null ? null : config.hashKey().getBytes(StandardCharsets.UTF_8);
    mac = ThreadLocal.withInitial(() -> {
      if (key == null) {
        return null;
      }
      try {
        Mac m = Mac.getInstance("HmacSHA256");
        m.init(new SecretKeySpec(key, "HmacSHA256"));
        return m;
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("HmacSHA256 unavailable", e);
      }
    });
  }

  private final EncodedRedaction encoded = new EncodedRedaction(this::isBlocked,
      kv -> attribute(kv, List.of(), false, new int[1]));

  /**
   * Spans can be redacted still encoded when blocked keys are all there is for traces: no rule looks into values or
   * names, no allow-list, no summary attribute.
   */
  @Override
  public boolean takesEncodedSpans() {
    return rulesBySignal.get(Signal.TRACES).isEmpty() && allowed.isEmpty() && !config.summary();
  }

  /** Hashes {@code url.path}, which the warm-up's synthetic spans carry, counting into a registry of its own. */
  @Override
  public EncodedSpanProcessor warmUpStandIn() {
    return new RedactionProcessor(new RedactionProcessorConfig("warmup", List.of(), List.of("url\\.path"),
        Action.HASH, "warmup-hash-key-not-a-secret", List.of(), false),
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
  }

  /** Same rules and keys; verdict caches and meters of its own. */
  @Override
  public Processor warmUpCopy() {
    return new RedactionProcessor(config, new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
  }

  @Override
  public com.google.protobuf.ByteString span(com.google.protobuf.ByteString span) throws java.io.IOException {
    return blocked.isEmpty() ? span : encoded.span(span);
  }

  @Override
  public io.opentelemetry.proto.resource.v1.Resource resource(io.opentelemetry.proto.resource.v1.Resource resource) {
    List<KeyValue> attrs = blocked.isEmpty() ? resource.getAttributesList()
        : attributes(resource.getAttributesList(), List.of(), false, new int[1]);
    return attrs == resource.getAttributesList() ? resource
        : resource.toBuilder().clearAttributes().addAllAttributes(attrs).build();
  }

  private Counter counter(MeterRegistry registry, String rule) {
    return Counter.builder("gateway.processor.redaction.redactions").description("Values redacted, by rule")
        .tag("processor", config.name()).tag("rule", rule).register(registry);
  }

  List<Rule> rules(Signal signal) {
    return rulesBySignal.get(signal);
  }

  @Override
  public Message process(Signal signal, Message request) {
    List<Rule> signalRules = rulesBySignal.get(signal);
    if (signalRules.isEmpty() && blocked.isEmpty() && allowed.isEmpty()) {
      return request;
    }
    if (request instanceof ExportTraceServiceRequest traces) {
      return traces(traces, signalRules);
    }
    if (request instanceof ExportLogsServiceRequest logs) {
      return logs(logs, signalRules);
    }
    return walkRequest(request, signalRules);
  }

  /** Any signal through the descriptor walk (traces and logs take their typed paths; tests compare them). */
  Message walkRequest(Message request, List<Rule> signalRules) {
    FieldDescriptor resources = request.getDescriptorForType().getFields().get(0);
    Message.Builder req = null;
    for (int i = 0; i < request.getRepeatedFieldCount(resources); i++) {
      Message entry = (Message) request.getRepeatedField(resources, i);
      FieldDescriptor resourceField = entry.getDescriptorForType().findFieldByName("resource");
      io.opentelemetry.proto.resource.v1.Resource resource =
          (io.opentelemetry.proto.resource.v1.Resource) entry.getField(resourceField);
      List<Rule> rules = forService(signalRules, serviceName(resource.getAttributesList()));
      int[] count = {0};
      Message walked = walk(entry, rules, count);
      List<KeyValue> attrs = attributes(resource.getAttributesList(), rules, false, count);
      if (attrs != resource.getAttributesList()) {
        walked = walked.toBuilder().setField(resourceField,
            resource.toBuilder().clearAttributes().addAllAttributes(attrs).build()).build();
      }
      if (walked != entry) {
        if (req == null) {
          req = request.toBuilder();
        }
        req.setRepeatedField(resources, i, walked);
      }
    }
    return req == null ? request : req.build();
  }

  /**
   * Traces, the busiest signal, through the generated accessors rather than the descriptor walk (which reflects on
   * every field of every span); the same places and order as {@link #walk}: span names, the attributes of resources,
   * spans, events and links.
   */
  private ExportTraceServiceRequest traces(ExportTraceServiceRequest request, List<Rule> signalRules) {
    ExportTraceServiceRequest.Builder out = null;
    for (int i = 0; i < request.getResourceSpansCount(); i++) {
      ResourceSpans rs = request.getResourceSpans(i);
      List<Rule> rules = forService(signalRules, serviceName(rs.getResource().getAttributesList()));
      int[] count = {0};
      ResourceSpans.Builder rb = null;
      for (int j = 0; j < rs.getScopeSpansCount(); j++) {
        ScopeSpans ss = rs.getScopeSpans(j);
        ScopeSpans.Builder sb = null;
        for (int k = 0; k < ss.getSpansCount(); k++) {
          Span span = ss.getSpans(k);
          Span redacted = span(span, rules, count);
          if (redacted != span) {
            if (sb == null) {
              sb = ss.toBuilder();
            }
            sb.setSpans(k, redacted);
          }
        }
        if (sb != null) {
          if (rb == null) {
            rb = rs.toBuilder();
          }
          rb.setScopeSpans(j, sb);
        }
      }
      List<KeyValue> resourceAttrs = rs.getResource().getAttributesList();
      List<KeyValue> attrs = attributes(resourceAttrs, rules, false, count);
      if (attrs != resourceAttrs) {
        if (rb == null) {
          rb = rs.toBuilder();
        }
        rb.setResource(rs.getResource().toBuilder().clearAttributes().addAllAttributes(attrs));
      }
      if (rb != null) {
        if (out == null) {
          out = request.toBuilder();
        }
        out.setResourceSpans(i, rb);
      }
    }
    return out == null ? request : out.build();
  }

  private Span span(Span span, List<Rule> rules, int[] count) {
    int before = count[0];
    Span.Builder b = null;
    String name = span.getName();
    String redactedName = redactText(name, rules, count, false);
    if (redactedName != name) {
      b = span.toBuilder().setName(redactedName);
    }
    List<KeyValue> attrs = attributes(span.getAttributesList(), rules, true, count);
    if (attrs != span.getAttributesList()) {
      b = (b == null ? span.toBuilder() : b).clearAttributes().addAllAttributes(attrs);
    }
    for (int i = 0; i < span.getEventsCount(); i++) {
      Span.Event e = span.getEvents(i);
      List<KeyValue> ea = attributes(e.getAttributesList(), rules, true, count);
      if (ea != e.getAttributesList()) {
        b = (b == null ? span.toBuilder() : b).setEvents(i, e.toBuilder().clearAttributes().addAllAttributes(ea));
      }
    }
    for (int i = 0; i < span.getLinksCount(); i++) {
      Span.Link l = span.getLinks(i);
      List<KeyValue> la = attributes(l.getAttributesList(), rules, true, count);
      if (la != l.getAttributesList()) {
        b = (b == null ? span.toBuilder() : b).setLinks(i, l.toBuilder().clearAttributes().addAllAttributes(la));
      }
    }
    if (config.summary() && count[0] > before) {
      b = (b == null ? span.toBuilder() : b).addAttributes(KeyValue.newBuilder().setKey(SUMMARY_ATTRIBUTE)
          .setValue(AnyValue.newBuilder().setIntValue(count[0] - before)));
    }
    return b == null ? span : b.build();
  }

  /** Logs through the generated accessors, like {@link #traces}: log bodies and the attributes of resources and records. */
  private ExportLogsServiceRequest logs(ExportLogsServiceRequest request, List<Rule> signalRules) {
    ExportLogsServiceRequest.Builder out = null;
    for (int i = 0; i < request.getResourceLogsCount(); i++) {
      ResourceLogs rl = request.getResourceLogs(i);
      List<Rule> rules = forService(signalRules, serviceName(rl.getResource().getAttributesList()));
      int[] count = {0};
      ResourceLogs.Builder rb = null;
      for (int j = 0; j < rl.getScopeLogsCount(); j++) {
        ScopeLogs sl = rl.getScopeLogs(j);
        ScopeLogs.Builder sb = null;
        for (int k = 0; k < sl.getLogRecordsCount(); k++) {
          LogRecord record = sl.getLogRecords(k);
          LogRecord redacted = logRecord(record, rules, count);
          if (redacted != record) {
            if (sb == null) {
              sb = sl.toBuilder();
            }
            sb.setLogRecords(k, redacted);
          }
        }
        if (sb != null) {
          if (rb == null) {
            rb = rl.toBuilder();
          }
          rb.setScopeLogs(j, sb);
        }
      }
      List<KeyValue> resourceAttrs = rl.getResource().getAttributesList();
      List<KeyValue> attrs = attributes(resourceAttrs, rules, false, count);
      if (attrs != resourceAttrs) {
        if (rb == null) {
          rb = rl.toBuilder();
        }
        rb.setResource(rl.getResource().toBuilder().clearAttributes().addAllAttributes(attrs));
      }
      if (rb != null) {
        if (out == null) {
          out = request.toBuilder();
        }
        out.setResourceLogs(i, rb);
      }
    }
    return out == null ? request : out.build();
  }

  private LogRecord logRecord(LogRecord record, List<Rule> rules, int[] count) {
    int before = count[0];
    LogRecord.Builder b = null;
    if (record.hasBody()) {
      AnyValue body = record.getBody();
      AnyValue redacted = redactValue(body, rules, count, false);
      if (redacted != body) {
        b = record.toBuilder().setBody(redacted == null ? AnyValue.getDefaultInstance() : redacted);
      }
    }
    List<KeyValue> attrs = attributes(record.getAttributesList(), rules, true, count);
    if (attrs != record.getAttributesList()) {
      b = (b == null ? record.toBuilder() : b).clearAttributes().addAllAttributes(attrs);
    }
    if (config.summary() && count[0] > before) {
      b = (b == null ? record.toBuilder() : b).addAttributes(KeyValue.newBuilder().setKey(SUMMARY_ATTRIBUTE)
          .setValue(AnyValue.newBuilder().setIntValue(count[0] - before)));
    }
    return b == null ? record : b.build();
  }

  private static String serviceName(List<KeyValue> attrs) {
    for (KeyValue kv : attrs) {
      if (kv.getKey().equals("service.name")) {
        return kv.getValue().getStringValue();
      }
    }
    return "";
  }

  private static List<Rule> forService(List<Rule> rules, String service) {
    List<Rule> out = null;
    for (int i = 0; i < rules.size(); i++) {
      Rule r = rules.get(i);
      if (!r.services().isEmpty() && !r.services().contains(service)) {
        if (out == null) {
          out = new ArrayList<>(rules.subList(0, i));
        }
      } else if (out != null) {
        out.add(r);
      }
    }
    return out == null ? rules : out;
  }

  /**
   * Edits every attribute list, span name and log body below {@code m}, copy-on-write: returns {@code m} itself when
   * nothing in it changed, so clean spans are never rebuilt. {@code count} counts redactions.
   */
  private Message walk(Message m, List<Rule> rules, int[] count) {
    String type = m.getDescriptorForType().getFullName();
    boolean item = ITEM_TYPES.contains(type);
    int before = count[0];
    Message.Builder b = null;
    for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
      String name = f.getName();
      Object replacement = null;
      if (type.equals("opentelemetry.proto.trace.v1.Span") && name.equals("name")) {
        String v = (String) m.getField(f);
        String r = redactText(v, rules, count, false);
        if (r != v) {
          replacement = r;
        }
      } else if (type.equals("opentelemetry.proto.logs.v1.LogRecord") && name.equals("body")) {
        if (m.hasField(f)) {
          AnyValue v = (AnyValue) m.getField(f);
          AnyValue r = redactValue(v, rules, count, false);
          if (r != v) {
            replacement = r == null ? AnyValue.getDefaultInstance() : r;
          }
        }
      } else if (f.getJavaType() != FieldDescriptor.JavaType.MESSAGE || name.equals("resource")
          || name.equals("scope")) {
        continue;
      } else if ((name.equals("attributes") || name.equals("filtered_attributes")) && f.isRepeated()) {
        @SuppressWarnings("unchecked")
        List<KeyValue> attrs = (List<KeyValue>) m.getField(f);
        List<KeyValue> r = attributes(attrs, rules, item, count);
        if (r != attrs) {
          replacement = r;
        }
      } else if (f.isRepeated()) {
        int n = m.getRepeatedFieldCount(f);
        List<Object> children = null;
        for (int i = 0; i < n; i++) {
          Message child = (Message) m.getRepeatedField(f, i);
          Message walked = walk(child, rules, count);
          if (walked != child && children == null) {
            children = new ArrayList<>(n);
            for (int j = 0; j < i; j++) {
              children.add(m.getRepeatedField(f, j));
            }
          }
          if (children != null) {
            children.add(walked);
          }
        }
        replacement = children;
      } else if (m.hasField(f)) {
        Message child = (Message) m.getField(f);
        Message walked = walk(child, rules, count);
        if (walked != child) {
          replacement = walked;
        }
      }
      if (replacement != null) {
        if (b == null) {
          b = m.toBuilder();
        }
        b.setField(f, replacement);
      }
    }
    if (config.summary() && SUMMARY_TYPES.contains(type) && count[0] > before) {
      if (b == null) {
        b = m.toBuilder();
      }
      FieldDescriptor attrs = b.getDescriptorForType().findFieldByName("attributes");
      b.addRepeatedField(attrs, KeyValue.newBuilder().setKey(SUMMARY_ATTRIBUTE)
          .setValue(AnyValue.newBuilder().setIntValue(count[0] - before)).build());
    }
    return b == null ? m : b.build();
  }

  /** Returns the same list when nothing changed (no allocation on the common path). */
  List<KeyValue> attributes(List<KeyValue> attrs, List<Rule> rules, boolean applyAllowList, int[] count) {
    return mapCopyOnWrite(attrs, kv -> attribute(kv, rules, applyAllowList, count));
  }

  /**
   * Applies {@code f} to every element; a null result removes the element. Returns {@code in} itself when every
   * element came back unchanged, so clean data allocates nothing.
   */
  static <T> List<T> mapCopyOnWrite(List<T> in, java.util.function.UnaryOperator<T> f) {
    List<T> out = null;
    for (int i = 0; i < in.size(); i++) {
      T element = in.get(i);
      T result = f.apply(element);
      if (result != element && out == null) {
        out = new ArrayList<>(in.subList(0, i));
      }
      if (out != null && result != null) {
        out.add(result);
      }
    }
    return out == null ? in : out;
  }

  /** The attribute as it should leave, or null to drop it. */
  private KeyValue attribute(KeyValue kv, List<Rule> rules, boolean applyAllowList, int[] count) {
    String key = kv.getKey();
    if (applyAllowList && !allowed.isEmpty() && !allowed.contains(key)) {
      notAllowed.increment();
      count[0]++;
      return null;
    }
    if (!blocked.isEmpty() && isBlocked(key)) {
      blockedKey.increment();
      count[0]++;
      return switch (config.blockedKeyAction()) {
        case DROP -> null;
        case MASK -> kv.toBuilder().setValue(AnyValue.newBuilder().setStringValue(MASK)).build();
        case HASH -> kv.toBuilder().setValue(AnyValue.newBuilder().setStringValue(hash(valueText(kv.getValue()))))
            .build();
      };
    }
    if (rules.isEmpty()) {
      return kv;
    }
    AnyValue v = redactValue(kv.getValue(), rules, count, true);
    if (v == null) {
      return null;
    }
    return v == kv.getValue() ? kv : kv.toBuilder().setValue(v).build();
  }

  private boolean isBlocked(String key) {
    Boolean known = blockedKeys.get(key);
    if (known != null) {
      return known;
    }
    boolean verdict = false;
    for (Pattern p : blocked) {
      if (p.matches(key)) {
        verdict = true;
        break;
      }
    }
    if (blockedKeys.size() < KEY_CACHE_LIMIT) {
      blockedKeys.put(key, verdict);
    }
    return verdict;
  }

  private static String valueText(AnyValue v) {
    return v.hasStringValue() ? v.getStringValue() : v.toString();
  }

  /** Redacts strings inside a value; null means "drop this value" (only when {@code dropWhole}). */
  private AnyValue redactValue(AnyValue v, List<Rule> rules, int[] count, boolean dropWhole) {
    switch (v.getValueCase()) {
      case STRING_VALUE -> {
        String s = v.getStringValue();
        String r = redactText(s, rules, count, dropWhole);
        if (r == null) {
          return null;
        }
        return r == s ? v : AnyValue.newBuilder().setStringValue(r).build();
      }
      case ARRAY_VALUE -> {
        List<AnyValue> values = v.getArrayValue().getValuesList();
        List<AnyValue> out = mapCopyOnWrite(values, e -> redactValue(e, rules, count, dropWhole));
        return out == values ? v : AnyValue.newBuilder().setArrayValue(ArrayValue.newBuilder().addAllValues(out))
            .build();
      }
      case KVLIST_VALUE -> {
        List<KeyValue> kvs = v.getKvlistValue().getValuesList();
        List<KeyValue> out = mapCopyOnWrite(kvs, kv -> attribute(kv, rules, false, count));
        return out == kvs ? v : AnyValue.newBuilder().setKvlistValue(KeyValueList.newBuilder().addAllValues(out))
            .build();
      }
      default -> {
        return v;
      }
    }
  }

  /**
   * Applies the rules in order to a string. Returns the same instance when nothing matched, null when a
   * {@code drop} rule matched and {@code dropWhole} (attributes), otherwise the redacted text.
   */
  String redactText(String s, List<Rule> rules, int[] count, boolean dropWhole) {
    String current = s;
    for (Rule rule : rules) {
      if (!rule.detector().mightMatch(current)) {
        continue; // most strings: no allocation, no regex
      }
      List<int[]> matches = new ArrayList<>(2);
      rule.detector().scan(current, (start, end) -> matches.add(new int[] {start, end}));
      if (matches.isEmpty()) {
        continue;
      }
      rule.counter().increment(matches.size());
      count[0] += matches.size();
      if (rule.action() == Action.DROP && dropWhole) {
        return null;
      }
      StringBuilder b = new StringBuilder(current.length());
      int last = 0;
      for (int[] m : matches) {
        b.append(current, last, m[0]);
        switch (rule.action()) {
          case MASK -> b.append(MASK);
          case HASH -> b.append(hash(current.substring(m[0], m[1])));
          case DROP -> {
          }
        }
        last = m[1];
      }
      b.append(current, last, current.length());
      current = b.toString();
    }
    return current;
  }

  /** HMAC-SHA256 of the value, first 16 hex characters, marked so readers know it is not the original. */
  String hash(String value) {
    byte[] h = mac.get().doFinal(value.getBytes(StandardCharsets.UTF_8));
    return "hmac:" + HEX.formatHex(h, 0, 8);
  }
}
