package dev.telemetry.gateway.processor.sampling;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import dev.telemetry.gateway.config.ConfigNode;
import dev.telemetry.gateway.processor.sampling.Policies.Evaluator;
import io.opentelemetry.proto.trace.v1.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.DoubleSupplier;
import java.util.stream.Collectors;

/**
 * One tail-sampling policy, as configured: a small record per type, each reading its own keys and compiling itself
 * into an evaluator. {@link #TYPES} is the only list of type names (the loader's dispatch and its error message).
 */
public sealed interface SamplingPolicy {
  String name();

  String type();

  /** Span attribute keys this policy reads (the sampler keeps only those of each buffered span). */
  default Set<String> attributeKeys() {
    return Set.of();
  }

  /** Whether it reads span names (the sampler then keeps them with each buffered span). */
  default boolean readsSpanNames() {
    return false;
  }

  /**
   * Compiles it. {@code share} scales rate budgets: in a cluster each member decides the traces it owns, so it gets
   * the fraction of the configured rate that its part of the ring receives, and the members together keep the rate.
   */
  Evaluator compile(DoubleSupplier share);

  /** Reads a policy's type-specific keys; {@code name} and {@code type} are read already. */
  @FunctionalInterface
  interface Reader {
    SamplingPolicy read(String name, ConfigNode node);
  }

  /** Every policy type by name, with its reader. */
  Map<String, Reader> TYPES = types();

  private static Map<String, Reader> types() {
    Map<String, Reader> m = new LinkedHashMap<>();
    m.put("always_sample", (n, p) -> new AlwaysSample(n));
    m.put("latency", Latency::read);
    m.put("status_code", StatusCode::read);
    m.put("probabilistic", Probabilistic::read);
    m.put("string_attribute", StringAttribute::read);
    m.put("numeric_attribute", NumericAttribute::read);
    m.put("boolean_attribute", BooleanAttribute::read);
    m.put("span_count", SpanCount::read);
    m.put("trace_state", TraceState::read);
    m.put("trace_flags", TraceFlags::read);
    m.put("ottl_condition", OttlCondition::read);
    m.put("rate_limiting", RateLimiting::read);
    m.put("bytes_limiting", BytesLimiting::read);
    m.put("and", And::read);
    m.put("drop", Drop::read);
    m.put("composite", Composite::read);
    return java.util.Collections.unmodifiableMap(m);
  }

  /** Reads a list of policies at {@code key} (names unique within the list), reporting every problem. */
  static List<SamplingPolicy> readAll(ConfigNode node, String key) {
    List<SamplingPolicy> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (ConfigNode p : node.objectList(key)) {
      String type = p.string("type", null);
      String name = p.string("name", null);
      if (name != null && !names.add(name)) {
        p.error("name", "policy name \"" + name + "\" is used twice");
      }
      if (type == null || name == null) {
        continue;
      }
      Reader reader = TYPES.get(type);
      if (reader == null) {
        p.error("type", "unknown policy type \"" + type + "\" (known types: " + String.join(", ", TYPES.keySet())
            + ")");
        continue;
      }
      SamplingPolicy policy = reader.read(name, p);
      if (policy != null) {
        out.add(policy);
      }
    }
    return out;
  }

  private static List<Evaluator> compileAll(List<SamplingPolicy> policies, DoubleSupplier share) {
    return policies.stream().map(sp -> sp.compile(share)).toList();
  }

  /** A policy made of sub-policies: it reads what they read. */
  sealed interface Combining extends SamplingPolicy permits And, Drop, Composite {
    List<SamplingPolicy> policies();

    @Override
    default Set<String> attributeKeys() {
      Set<String> keys = new HashSet<>();
      policies().forEach(p -> keys.addAll(p.attributeKeys()));
      return Set.copyOf(keys);
    }

    @Override
    default boolean readsSpanNames() {
      return policies().stream().anyMatch(SamplingPolicy::readsSpanNames);
    }
  }

  /** Keeps every trace. */
  record AlwaysSample(String name) implements SamplingPolicy {
    @Override
    public String type() {
      return "always_sample";
    }

    @Override
    public Evaluator compile(DoubleSupplier share) {
      return Policies.evaluator(name, t -> Decision.SAMPLE);
    }
  }

  /** Keeps traces lasting at least {@code threshold} (and at most {@code upperThreshold}, when set). */
  record Latency(String name, Duration threshold, Duration upperThreshold) implements SamplingPolicy {
    static Latency read(String name, ConfigNode p) {
      p.allowOnly("name", "type", "threshold", "upper_threshold");
      Duration threshold = p.duration("threshold", null, Duration.ZERO);
      if (threshold == null) {
        p.error("threshold", "is required (e.g. \"2s\")");
      }
      return new Latency(name, threshold, p.duration("upper_threshold", null, Duration.ZERO));
    }

    @Override
    public String type() {
      return "latency";
    }

    @Override
    public Evaluator compile(DoubleSupplier share) {
      long min = threshold.toNanos();
      long max = upperThreshold == null ? Long.MAX_VALUE : upperThreshold.toNanos();
      return Policies.evaluator(name, t -> {
        long d = t.durationNanos();
        return d >= min && d <= max ? Decision.SAMPLE : Decision.NOT_SAMPLE;
      });
    }
  }

  /** Keeps traces with a span whose status is one of {@code statusCodes} (ERROR, OK, UNSET). */
  record StatusCode(String name, List<String> statusCodes) implements SamplingPolicy {
    static final List<String> CODES = List.of("ERROR", "OK", "UNSET");

    static StatusCode read(String name, ConfigNode p) {
      p.allowOnly("name", "type", "status_codes");
      List<String> codes = p.stringList("status_codes", null);
      for (int i = 0; codes != null && i < codes.size(); i++) {
        if (!CODES.contains(codes.get(i))) {
          p.error("status_codes[" + i + "]", "\"" + codes.get(i) + "\" is not one of ERROR, OK, UNSET");
        }
      }
      return codes == null ? null : new StatusCode(name, codes);
    }

    public StatusCode {
      statusCodes = List.copyOf(statusCodes);
    }

    @Override
    public String type() {
      return "status_code";
    }

    @Override
    public Evaluator compile(DoubleSupplier share) {
      Set<Integer> codes = statusCodes.stream()
          .map(c -> Status.StatusCode.valueOf("STATUS_CODE_" + c).getNumber()).collect(Collectors.toSet());
      return Policies.evaluator(name, t -> t.entries.stream().anyMatch(e -> codes.contains(e.statusCode()))
          ? Decision.SAMPLE : Decision.NOT_SAMPLE);
    }
  }

  /** Keeps {@code percentage} percent of traces, chosen by trace ID (the same on every member). */
  record Probabilistic(String name, double percentage) implements SamplingPolicy {
    static Probabilistic read(String name, ConfigNode p) {
      p.allowOnly("name", "type", "percentage");
      double percentage = p.number("percentage", -1, 0, 100);
      if (!p.has("percentage")) {
        p.error("percentage", "is required (0 to 100)");
      }
      return new Probabilistic(name, percentage);
    }

    @Override
    public String type() {
      return "probabilistic";
    }

    @Override
    public Evaluator compile(DoubleSupplier share) {
      long threshold = Math.round(percentage * 100); // out of 10,000
      return Policies.evaluator(name, t -> Policies.bucket(t.traceId) < threshold
          ? Decision.SAMPLE : Decision.NOT_SAMPLE);
    }
  }

  /** Keeps traces where a span or resource attribute equals (or, with regex, contains a match of) a value. */
  record StringAttribute(String name, String key, List<String> values, boolean regex, boolean invert)
      implements SamplingPolicy {
    static StringAttribute read(String name, ConfigNode p) {
      p.allowOnly("name", "type", "key", "values", "regex", "invert");
      String key = p.string("key", null);
      List<String> values = p.stringList("values", null);
      boolean regex = p.bool("regex", false);
      boolean invert = p.bool("invert", false);
      for (int i = 0; regex && values != null && i < values.size(); i++) {
        try {
          Pattern.compile(values.get(i));
        } catch (PatternSyntaxException e) {
          p.error("values[" + i + "]", "invalid RE2 pattern: " + e.getMessage());
        }
      }
      return key == null || values == null ? null : new StringAttribute(name, key, values, regex, invert);
    }

    public StringAttribute {
      values = List.copyOf(values);
    }

    @Override
    public String type() {
      return "string_attribute";
    }

    @Override
    public Set<String> attributeKeys() {
      return Set.of(key);
    }

    @Override
    public Evaluator compile(DoubleSupplier share) {
      List<Pattern> patterns = regex ? values.stream().map(Pattern::compile).toList() : List.of();
      Set<String> exact = Set.copyOf(values);
      return Policies.matcher(name, invert, t -> t.attributeValues(key).stream().anyMatch(v -> v.hasStringValue()
          && (regex ? patterns.stream().anyMatch(r -> r.matcher(v.getStringValue()).find())
          : exact.contains(v.getStringValue()))));
    }
  }

  /** Keeps traces where a numeric attribute lies in [min, max] (either bound may be open). */
  record NumericAttribute(String name, String key, Double min, Double max, boolean invert) implements SamplingPolicy {
    static NumericAttribute read(String name, ConfigNode p) {
      p.allowOnly("name", "type", "key", "min", "max", "invert");
      String key = p.string("key", null);
      Double min = p.has("min") ? p.number("min", 0, -Double.MAX_VALUE, Double.MAX_VALUE) : null;
      Double max = p.has("max") ? p.number("max", 0, -Double.MAX_VALUE, Double.MAX_VALUE) : null;
      boolean invert = p.bool("invert", false);
      if (min == null && max == null) {
        p.error(null, "give min, max or both");
      }
      return key == null ? null : new NumericAttribute(name, key, min, max, invert);
    }

    @Override
    public String type() {
      return "numeric_attribute";
    }

    @Override
    public Set<String> attributeKeys() {
      return Set.of(key);
    }

    @Override
    public Evaluator compile(DoubleSupplier share) {
      double lo = min == null ? -Double.MAX_VALUE : min;
      double hi = max == null ? Double.MAX_VALUE : max;
      return Policies.matcher(name, invert, t -> t.attributeValues(key).stream().anyMatch(v -> {
        double d = v.hasIntValue() ? v.getIntValue() : v.hasDoubleValue() ? v.getDoubleValue() : Double.NaN;
        return d >= lo && d <= hi;
      }));
    }
  }

  /** Keeps traces where a boolean attribute has {@code value}. */
  record BooleanAttribute(String name, String key, boolean value, boolean invert) implements SamplingPolicy {
    static BooleanAttribute read(String name, ConfigNode p) {
      p.allowOnly("name", "type", "key", "value", "invert");
      String key = p.string("key", null);
      boolean value = p.bool("value", true);
      boolean invert = p.bool("invert", false);
      return key == null ? null : new BooleanAttribute(name, key, value, invert);
    }

    @Override
    public String type() {
      return "boolean_attribute";
    }

    @Override
    public Set<String> attributeKeys() {
      return Set.of(key);
    }

    @Override
    public Evaluator compile(DoubleSupplier share) {
      return Policies.matcher(name, invert, t -> t.attributeValues(key).stream()
          .anyMatch(v -> v.hasBoolValue() && v.getBoolValue() == value));
    }
  }

  /** Keeps traces with between {@code minSpans} and {@code maxSpans} (null: no upper bound) spans. */
  record SpanCount(String name, int minSpans, Integer maxSpans) implements SamplingPolicy {
    static SpanCount read(String name, ConfigNode p) {
      p.allowOnly("name", "type", "min_spans", "max_spans");
      int min = (int) p.integer("min_spans", 1, 0, Integer.MAX_VALUE);
      Integer max = p.has("max_spans") ? (int) p.integer("max_spans", Integer.MAX_VALUE, 0, Integer.MAX_VALUE) : null;
      return new SpanCount(name, min, max);
    }

    @Override
    public String type() {
      return "span_count";
    }

    @Override
    public Evaluator compile(DoubleSupplier share) {
      int hi = maxSpans == null ? Integer.MAX_VALUE : maxSpans;
      return Policies.evaluator(name, t -> t.spanCount() >= minSpans && t.spanCount() <= hi ? Decision.SAMPLE
          : Decision.NOT_SAMPLE);
    }
  }

  /** Keeps traces whose W3C trace state has {@code key=value} for one of the values. */
  record TraceState(String name, String key, List<String> values) implements SamplingPolicy {
    static TraceState read(String name, ConfigNode p) {
      p.allowOnly("name", "type", "key", "values");
      String key = p.string("key", null);
      List<String> values = p.stringList("values", null);
      return key == null || values == null ? null : new TraceState(name, key, values);
    }

    public TraceState {
      values = List.copyOf(values);
    }

    @Override
    public String type() {
      return "trace_state";
    }

    @Override
    public Evaluator compile(DoubleSupplier share) {
      Set<String> wanted = values.stream().map(v -> key + "=" + v).collect(Collectors.toSet());
      return Policies.evaluator(name, t -> t.entries.stream().anyMatch(e -> {
        for (String member : e.traceState().split(",")) {
          if (wanted.contains(member.trim())) {
            return true;
          }
        }
        return false;
      }) ? Decision.SAMPLE : Decision.NOT_SAMPLE);
    }
  }

  /**
   * Keeps traces with a span whose W3C trace flags have the {@code sampled} bit set (or, with {@code sampled: false},
   * clear): it honours what a head sampler upstream decided.
   */
  record TraceFlags(String name, boolean sampled) implements SamplingPolicy {
    /** The W3C "sampled" trace flag, the low byte of OTLP's {@code Span.flags}. */
    static final int SAMPLED = 0x01;

    static TraceFlags read(String name, ConfigNode p) {
      p.allowOnly("name", "type", "sampled");
      return new TraceFlags(name, p.bool("sampled", true));
    }

    @Override
    public String type() {
      return "trace_flags";
    }

    @Override
    public Evaluator compile(DoubleSupplier share) {
      return Policies.evaluator(name, t -> t.entries.stream().anyMatch(e -> ((e.flags() & SAMPLED) != 0) == sampled)
          ? Decision.SAMPLE : Decision.NOT_SAMPLE);
    }
  }

  /**
   * Keeps traces with a span matching any of {@code span} conditions, written in the OTTL subset
   * {@link SpanCondition} parses (the Collector's {@code ottl_condition} with its span conditions).
   */
  record OttlCondition(String name, List<String> span, List<SpanCondition> conditions) implements SamplingPolicy {
    static OttlCondition read(String name, ConfigNode p) {
      p.allowOnly("name", "type", "span");
      List<String> texts = p.stringList("span", null);
      if (texts == null) {
        return null;
      }
      List<SpanCondition> parsed = new ArrayList<>();
      for (int i = 0; i < texts.size(); i++) {
        try {
          parsed.add(SpanCondition.parse(texts.get(i)));
        } catch (SpanCondition.SyntaxException e) {
          p.error("span[" + i + "]", e.getMessage() + " in " + texts.get(i));
        }
      }
      return parsed.size() == texts.size() ? new OttlCondition(name, texts, parsed) : null;
    }

    public OttlCondition {
      span = List.copyOf(span);
      conditions = List.copyOf(conditions);
    }

    @Override
    public String type() {
      return "ottl_condition";
    }

    @Override
    public Set<String> attributeKeys() {
      Set<String> keys = new HashSet<>();
      conditions.forEach(c -> keys.addAll(c.needs().attributeKeys()));
      return Set.copyOf(keys);
    }

    @Override
    public boolean readsSpanNames() {
      return conditions.stream().anyMatch(c -> c.needs().spanName());
    }

    @Override
    public Evaluator compile(DoubleSupplier share) {
      return Policies.evaluator(name, t -> t.entries.stream().anyMatch(e -> conditions.stream()
          .anyMatch(c -> c.test(e))) ? Decision.SAMPLE : Decision.NOT_SAMPLE);
    }
  }

  /** Keeps traces while a token bucket of {@code spansPerSecond} has room for all their spans. */
  record RateLimiting(String name, long spansPerSecond) implements SamplingPolicy {
    static RateLimiting read(String name, ConfigNode p) {
      p.allowOnly("name", "type", "spans_per_second");
      long rate = p.integer("spans_per_second", 0, 1, Long.MAX_VALUE);
      if (!p.has("spans_per_second")) {
        p.error("spans_per_second", "is required");
      }
      return new RateLimiting(name, rate);
    }

    @Override
    public String type() {
      return "rate_limiting";
    }

    @Override
    public Evaluator compile(DoubleSupplier share) {
      return new Policies.TokenBucket(name, spansPerSecond, spansPerSecond, share, Trace::spanCount);
    }
  }

  /**
   * Keeps traces while a token bucket of {@code bytesPerSecond} (holding up to {@code burstBytes}) has room for their
   * encoded size, as the Collector's {@code bytes_limiting}: it caps what the backend ingests, not just span counts.
   */
  record BytesLimiting(String name, long bytesPerSecond, long burstBytes) implements SamplingPolicy {
    static BytesLimiting read(String name, ConfigNode p) {
      p.allowOnly("name", "type", "bytes_per_second", "burst_capacity");
      long rate = p.bytes("bytes_per_second", 0, 1);
      if (!p.has("bytes_per_second")) {
        p.error("bytes_per_second", "is required (e.g. \"1MiB\")");
      }
      long burst = p.bytes("burst_capacity", 2 * rate, 1);
      return new BytesLimiting(name, rate, burst);
    }

    @Override
    public String type() {
      return "bytes_limiting";
    }

    @Override
    public Evaluator compile(DoubleSupplier share) {
      return new Policies.TokenBucket(name, bytesPerSecond, burstBytes, share, Trace::encodedBytes);
    }
  }

  /** Keeps traces that every sub-policy keeps. */
  record And(String name, List<SamplingPolicy> policies) implements Combining {
    static And read(String name, ConfigNode p) {
      p.allowOnly("name", "type", "policies");
      return new And(name, subPolicies(p));
    }

    public And {
      policies = List.copyOf(policies);
    }

    @Override
    public String type() {
      return "and";
    }

    @Override
    public Evaluator compile(DoubleSupplier share) {
      return Policies.all(name, compileAll(policies, share), Decision.SAMPLE);
    }
  }

  /** Drops (vetoes) traces that every sub-policy keeps, whatever other policies say. */
  record Drop(String name, List<SamplingPolicy> policies) implements Combining {
    static Drop read(String name, ConfigNode p) {
      p.allowOnly("name", "type", "policies");
      return new Drop(name, subPolicies(p));
    }

    public Drop {
      policies = List.copyOf(policies);
    }

    @Override
    public String type() {
      return "drop";
    }

    @Override
    public Evaluator compile(DoubleSupplier share) {
      return Policies.all(name, compileAll(policies, share), Decision.DROP);
    }
  }

  /** Sub-policies in order, each with a share (percent) of a total spans/s budget. */
  record Composite(String name, long spansPerSecond, List<SamplingPolicy> policies, List<Integer> shares)
      implements Combining {
    static Composite read(String name, ConfigNode p) {
      p.allowOnly("name", "type", "spans_per_second", "policies", "shares");
      long rate = p.integer("spans_per_second", 0, 1, Long.MAX_VALUE);
      List<SamplingPolicy> subs = readAll(p, "policies");
      List<Integer> shares = p.integerList("shares");
      if (subs.size() != shares.size()) {
        p.error("shares", "give one share (percent) per sub-policy: " + subs.size() + " policies, "
            + shares.size() + " shares");
      } else if (shares.stream().mapToInt(Integer::intValue).sum() > 100) {
        p.error("shares", "shares add up to more than 100 percent");
      }
      return new Composite(name, rate, subs, shares);
    }

    public Composite {
      policies = List.copyOf(policies);
      shares = List.copyOf(shares);
    }

    @Override
    public String type() {
      return "composite";
    }

    @Override
    public Evaluator compile(DoubleSupplier share) {
      return new Policies.Composite(name, spansPerSecond, compileAll(policies, share), shares, share);
    }
  }

  private static List<SamplingPolicy> subPolicies(ConfigNode p) {
    int before = p.problems();
    List<SamplingPolicy> subs = readAll(p, "policies");
    if (subs.isEmpty() && p.problems() == before) {
      p.error("policies", "give at least one sub-policy");
    }
    return subs;
  }
}
