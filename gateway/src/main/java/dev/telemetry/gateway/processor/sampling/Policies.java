package dev.telemetry.gateway.processor.sampling;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

/**
 * The evaluators that {@link SamplingPolicy} records compile into, and what they share. Stateful ones (token
 * buckets) are confined to the sampler's context.
 */
final class Policies {
  private Policies() {
  }

  /** A compiled policy. */
  interface Evaluator {
    String name();

    Decision evaluate(Trace trace, long nowNanos);
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

  /** How a named evaluator decides, given the trace and the sampler's clock. */
  @FunctionalInterface
  interface Rule {
    Decision decide(Trace trace, long nowNanos);
  }

  private record Named(String name, Rule rule) implements Evaluator {
    @Override
    public Decision evaluate(Trace trace, long nowNanos) {
      return rule.decide(trace, nowNanos);
    }
  }

  /** A stateless evaluator. */
  static Evaluator evaluator(String name, Function<Trace, Decision> f) {
    return new Named(name, (t, now) -> f.apply(t));
  }

  /** A match policy: SAMPLE on a match, or with invert SAMPLE on no match and INVERT_NOT_SAMPLE (which wins) on one. */
  static Evaluator matcher(String name, boolean invert, Predicate<Trace> match) {
    return evaluator(name, t -> {
      boolean m = match.test(t);
      if (invert) {
        return m ? Decision.INVERT_NOT_SAMPLE : Decision.SAMPLE;
      }
      return m ? Decision.SAMPLE : Decision.NOT_SAMPLE;
    });
  }

  /**
   * {@code onAll} when every sub-policy samples the trace, NOT_SAMPLE otherwise. The sub-policies see the caller's
   * clock, so a rate limit inside {@code and} refills by the sampler's time, not the wall clock.
   */
  static Evaluator all(String name, List<Evaluator> subs, Decision onAll) {
    return new Named(name, (trace, nowNanos) -> {
      for (Evaluator s : subs) {
        if (s.evaluate(trace, nowNanos) != Decision.SAMPLE) {
          return Decision.NOT_SAMPLE;
        }
      }
      return onAll;
    });
  }

  /**
   * A token bucket refilled continuously at {@code perSecond} up to {@code capacity}; a trace costs {@code cost}
   * tokens (its spans, or its bytes). Both scale by {@code share}.
   */
  static final class TokenBucket implements Evaluator {
    private final String name;
    private final double perSecond;
    private final double capacity;
    private final DoubleSupplier share;
    private final ToLongFunction<Trace> cost;
    private double tokens;
    private long last = -1;

    TokenBucket(String name, long perSecond, long capacity, DoubleSupplier share, ToLongFunction<Trace> cost) {
      this.name = name;
      this.perSecond = perSecond;
      this.capacity = capacity;
      this.share = share;
      this.cost = cost;
      this.tokens = capacity * share.getAsDouble();
    }

    @Override
    public String name() {
      return name;
    }

    boolean take(long amount, long nowNanos) {
      double s = share.getAsDouble();
      double cap = capacity * s;
      if (last >= 0) {
        tokens = Math.min(cap, tokens + (nowNanos - last) / 1e9 * perSecond * s);
      }
      last = nowNanos;
      tokens = Math.min(tokens, cap); // the share may have shrunk
      if (tokens >= amount) {
        tokens -= amount;
        return true;
      }
      return false;
    }

    @Override
    public Decision evaluate(Trace trace, long nowNanos) {
      return take(cost.applyAsLong(trace), nowNanos) ? Decision.SAMPLE : Decision.NOT_SAMPLE;
    }
  }

  /**
   * Sub-policies in order, each with a share of a total spans/s budget: the first sub-policy that samples the trace
   * keeps it if its share still has room.
   */
  static final class Composite implements Evaluator {
    private final String name;
    private final List<Evaluator> subs;
    private final List<TokenBucket> budgets = new ArrayList<>();

    Composite(String name, long perSecond, List<Evaluator> subs, List<Integer> shares, DoubleSupplier share) {
      this.name = name;
      this.subs = subs;
      for (int i = 0; i < subs.size(); i++) {
        long rate = Math.max(1, perSecond * shares.get(i) / 100);
        budgets.add(new TokenBucket(name + "/" + subs.get(i).name(), rate, rate, share, Trace::spanCount));
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
