package dev.telemetry.gateway.config;

import java.time.Duration;
import java.util.List;

/**
 * Tail sampling: spans are buffered per trace and each trace is kept or dropped whole, once, {@code decisionWait}
 * after its first span (earlier, oldest first, when the buffer reaches {@code memoryBudgetBytes}). Decided trace IDs
 * are remembered (bounded) so late spans follow their trace's decision.
 */
public record TailSamplingProcessorConfig(String name, Duration decisionWait, long memoryBudgetBytes,
                                          int sampledCacheSize, int notSampledCacheSize, List<Policy> policies)
    implements ProcessorConfig {
  public static final String TYPE = "tail_sampling";
  public static final Duration DEFAULT_DECISION_WAIT = Duration.ofSeconds(10);
  public static final long DEFAULT_MEMORY_BUDGET = 256L * 1024 * 1024;
  public static final int DEFAULT_CACHE_SIZE = 100_000;
  public static final List<String> POLICY_TYPES = List.of("always_sample", "latency", "status_code", "probabilistic",
      "string_attribute", "numeric_attribute", "boolean_attribute", "span_count", "trace_state", "rate_limiting",
      "and", "composite", "drop");

  /**
   * One policy. Which fields matter depends on {@code type}; the loader checks that the needed ones are there.
   * {@code subPolicies} serve {@code and}, {@code drop} and {@code composite}; {@code shares} (percent of
   * {@code spansPerSecond}, by sub-policy position) serve {@code composite}.
   */
  public record Policy(String name, String type, Duration threshold, Duration upperThreshold, List<String> statusCodes,
                       double percentage, String key, List<String> values, boolean regex, boolean invert,
                       Double min, Double max, Boolean boolValue, Integer minSpans, Integer maxSpans,
                       long spansPerSecond, List<Policy> subPolicies, List<Integer> shares) {
    public Policy {
      statusCodes = statusCodes == null ? List.of() : List.copyOf(statusCodes);
      values = values == null ? List.of() : List.copyOf(values);
      subPolicies = subPolicies == null ? List.of() : List.copyOf(subPolicies);
      shares = shares == null ? List.of() : List.copyOf(shares);
      if (!POLICY_TYPES.contains(type)) {
        throw new IllegalArgumentException("unknown policy type \"" + type + "\" (known types: "
            + String.join(", ", POLICY_TYPES) + ")");
      }
    }
  }

  public TailSamplingProcessorConfig {
    policies = List.copyOf(policies);
    if (policies.isEmpty()) {
      throw new IllegalArgumentException("policies: give at least one policy");
    }
    if (decisionWait.isZero() || decisionWait.isNegative()) {
      throw new IllegalArgumentException("decision_wait must be positive");
    }
  }

  @Override
  public String type() {
    return TYPE;
  }
}
