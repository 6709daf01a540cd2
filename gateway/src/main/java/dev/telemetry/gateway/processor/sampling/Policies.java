package dev.telemetry.gateway.processor.sampling;

import com.google.protobuf.ByteString;
import com.google.re2j.Pattern;
import dev.telemetry.gateway.config.TailSamplingProcessorConfig.Policy;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.trace.v1.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** Compiles configured policies into evaluators. Stateful ones (rate limits) are confined to the sampler's context. */
final class Policies {
  private Policies() {
  }

  /** A compiled policy. */
  interface Evaluator {
    String name();

    Decision evaluate(Trace trace, long nowNanos);
  }

  static Evaluator compile(Policy p) {
    return compile(p, () -> 1.0);
  }

  /**
   * {@code share} scales rate budgets: in a cluster each member decides the traces it owns, so it gets the fraction
   * of the configured spans/s that its part of the ring receives, and the members together keep the configured rate.
   */
  static Evaluator compile(Policy p, java.util.function.DoubleSupplier share) {
    String name = p.name();
    return switch (p.type()) {
      case "always_sample" -> evaluator(name, t -> Decision.SAMPLE);
      case "latency" -> {
        long min = p.threshold().toNanos();
        long max = p.upperThreshold() == null ? Long.MAX_VALUE : p.upperThreshold().toNanos();
        yield evaluator(name, t -> {
          long d = t.durationNanos();
          return d >= min && d <= max ? Decision.SAMPLE : Decision.NOT_SAMPLE;
        });
      }
      case "status_code" -> {
        Set<Integer> codes = p.statusCodes().stream()
            .map(c -> Status.StatusCode.valueOf("STATUS_CODE_" + c).getNumber()).collect(Collectors.toSet());
        yield evaluator(name, t -> t.entries.stream().anyMatch(e -> codes.contains(e.statusCode()))
            ? Decision.SAMPLE : Decision.NOT_SAMPLE);
      }
      case "probabilistic" -> {
        long threshold = Math.round(p.percentage() * 100); // out of 10,000
        yield evaluator(name, t -> bucket(t.traceId) < threshold
            ? Decision.SAMPLE : Decision.NOT_SAMPLE);
      }
      case "string_attribute" -> {
        List<Pattern> patterns = p.regex() ? p.values().stream().map(Pattern::compile).toList() : List.of();
        Set<String> exact = Set.copyOf(p.values());
        yield matcher(name, p.invert(), t -> t.attributeValues(p.key()).stream().anyMatch(v -> v.hasStringValue()
            && (p.regex() ? patterns.stream().anyMatch(r -> r.matcher(v.getStringValue()).find())
            : exact.contains(v.getStringValue()))));
      }
      case "numeric_attribute" -> {
        double min = p.min() == null ? -Double.MAX_VALUE : p.min();
        double max = p.max() == null ? Double.MAX_VALUE : p.max();
        yield matcher(name, p.invert(), t -> t.attributeValues(p.key()).stream().anyMatch(v -> {
          double d = v.hasIntValue() ? v.getIntValue() : v.hasDoubleValue() ? v.getDoubleValue() : Double.NaN;
          return d >= min && d <= max;
        }));
      }
      case "boolean_attribute" -> matcher(name, p.invert(), t -> t.attributeValues(p.key()).stream()
          .anyMatch(v -> v.hasBoolValue() && v.getBoolValue() == p.boolValue()));
      case "span_count" -> {
        int min = p.minSpans() == null ? 0 : p.minSpans();
        int max = p.maxSpans() == null ? Integer.MAX_VALUE : p.maxSpans();
        yield evaluator(name, t -> t.spanCount() >= min && t.spanCount() <= max ? Decision.SAMPLE
            : Decision.NOT_SAMPLE);
      }
      case "trace_state" -> {
        Set<String> wanted = p.values().stream().map(v -> p.key() + "=" + v).collect(Collectors.toSet());
        yield evaluator(name, t -> t.entries.stream().anyMatch(e -> {
          for (String member : e.traceState().split(",")) {
            if (wanted.contains(member.trim())) {
              return true;
            }
          }
          return false;
        }) ? Decision.SAMPLE : Decision.NOT_SAMPLE);
      }
      case "rate_limiting" -> new RateLimiting(name, p.spansPerSecond(), share);
      case "and" -> {
        List<Evaluator> subs = p.subPolicies().stream().map(sp -> compile(sp, share)).toList();
        yield evaluator(name, t -> subs.stream().allMatch(s -> s.evaluate(t, System.nanoTime()) == Decision.SAMPLE)
            ? Decision.SAMPLE : Decision.NOT_SAMPLE);
      }
      case "drop" -> {
        List<Evaluator> subs = p.subPolicies().stream().map(sp -> compile(sp, share)).toList();
        yield evaluator(name, t -> subs.stream().allMatch(s -> s.evaluate(t, System.nanoTime()) == Decision.SAMPLE)
            ? Decision.DROP : Decision.NOT_SAMPLE);
      }
      case "composite" -> new Composite(name, p.spansPerSecond(),
          p.subPolicies().stream().map(sp -> compile(sp, share)).toList(), p.shares(), share);
      default -> throw new IllegalArgumentException("unknown policy type " + p.type());
    };
  }

  /** The attribute keys the policies read (so the buffer keeps only those of each span). */
  static Set<String> attributeKeys(List<Policy> policies) {
    Set<String> keys = new java.util.HashSet<>();
    for (Policy p : policies) {
      if (p.type().endsWith("_attribute") && p.key() != null) {
        keys.add(p.key());
      }
      keys.addAll(attributeKeys(p.subPolicies()));
    }
    return Set.copyOf(keys);
  }

  /**
   * A bucket in [0, 10000) from the trace ID — the same on every node, so a cluster agrees. W3C trace IDs are
   * random in their low 8 bytes; FNV-1a over all 16 keeps non-random IDs usable too.
   */
  static long bucket(ByteString traceId) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < traceId.size(); i++) {
      h ^= traceId.byteAt(i) & 0xFF;
      h *= 0x100000001b3L;
    }
    return Long.remainderUnsigned(h, 10_000);
  }

  private static Evaluator evaluator(String name, java.util.function.Function<Trace, Decision> f) {
    return new Evaluator() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public Decision evaluate(Trace trace, long nowNanos) {
        return f.apply(trace);
      }
    };
  }

  /** A match policy: SAMPLE on a match, or with invert SAMPLE on no match and INVERT_NOT_SAMPLE (which wins) on one. */
  private static Evaluator matcher(String name, boolean invert, java.util.function.Predicate<Trace> match) {
    return evaluator(name, t -> {
      boolean m = match.test(t);
      if (invert) {
        return m ? Decision.INVERT_NOT_SAMPLE : Decision.SAMPLE;
      }
      return m ? Decision.SAMPLE : Decision.NOT_SAMPLE;
    });
  }

  /** A token bucket of spans per second, refilled continuously. */
  static final class RateLimiting implements Evaluator {
    private final String name;
    private final double configured;
    private final java.util.function.DoubleSupplier share;
    private double tokens;
    private long last = -1;

    RateLimiting(String name, long perSecond) {
      this(name, perSecond, () -> 1.0);
    }

    RateLimiting(String name, long perSecond, java.util.function.DoubleSupplier share) {
      this.name = name;
      this.configured = perSecond;
      this.share = share;
      this.tokens = perSecond * share.getAsDouble();
    }

    @Override
    public String name() {
      return name;
    }

    boolean take(int spans, long nowNanos) {
      double perSecond = configured * share.getAsDouble();
      if (last >= 0) {
        tokens = Math.min(perSecond, tokens + (nowNanos - last) / 1e9 * perSecond);
      }
      last = nowNanos;
      tokens = Math.min(tokens, perSecond); // the share may have shrunk
      if (tokens >= spans) {
        tokens -= spans;
        return true;
      }
      return false;
    }

    @Override
    public Decision evaluate(Trace trace, long nowNanos) {
      return take(trace.spanCount(), nowNanos) ? Decision.SAMPLE : Decision.NOT_SAMPLE;
    }
  }

  /**
   * Sub-policies in order, each with a share of a total spans/s budget: the first sub-policy that samples the trace
   * keeps it if its share still has room.
   */
  static final class Composite implements Evaluator {
    private final String name;
    private final List<Evaluator> subs;
    private final List<RateLimiting> budgets = new ArrayList<>();

    Composite(String name, long perSecond, List<Evaluator> subs, List<Integer> shares,
              java.util.function.DoubleSupplier share) {
      this.name = name;
      this.subs = subs;
      for (int i = 0; i < subs.size(); i++) {
        budgets.add(new RateLimiting(name + "/" + subs.get(i).name(), Math.max(1, perSecond * shares.get(i) / 100),
            share));
      }
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public Decision evaluate(Trace trace, long nowNanos) {
      for (int i = 0; i < subs.size(); i++) {
        if (subs.get(i).evaluate(trace, nowNanos) == Decision.SAMPLE) {
          return budgets.get(i).take(trace.spanCount(), nowNanos) ? Decision.SAMPLE : Decision.NOT_SAMPLE;
        }
      }
      return Decision.NOT_SAMPLE;
    }
  }
}
