package dev.telemetry.gateway.processor.sampling;

import dev.telemetry.gateway.config.ConfigNode;
import dev.telemetry.gateway.config.ProcessorConfig;
import java.util.Set;
import java.time.Duration;
import java.util.List;

/**
 * Tail sampling: spans are buffered per trace and each trace is kept or dropped whole, once, {@code decisionWait}
 * after its first span (earlier, oldest first, when the buffer reaches {@code memoryBudgetBytes}). Decided trace IDs
 * are remembered (bounded) so late spans follow their trace's decision.
 */
public record TailSamplingProcessorConfig(String name, Duration decisionWait, long memoryBudgetBytes,
                                          int sampledCacheSize, int notSampledCacheSize, List<SamplingPolicy> policies)
    implements ProcessorConfig {
  public static final String TYPE = "tail_sampling";
  public static final Duration DEFAULT_DECISION_WAIT = Duration.ofSeconds(10);
  public static final long DEFAULT_MEMORY_BUDGET = 256L * 1024 * 1024;
  public static final int DEFAULT_CACHE_SIZE = 100_000;

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

  /** Every span attribute key some policy reads. */
  public Set<String> attributeKeys() {
    Set<String> keys = new java.util.HashSet<>();
    policies.forEach(p -> keys.addAll(p.attributeKeys()));
    return Set.copyOf(keys);
  }

  /** Reads a processor of type {@value #TYPE}. */
  public static TailSamplingProcessorConfig read(String name, ConfigNode node) {
    int before = node.problems();
    node.allowOnly("type", "decision_wait", "memory_budget", "decision_cache", "policies");
    Duration wait = node.duration("decision_wait", DEFAULT_DECISION_WAIT, Duration.ofMillis(1));
    long budget = node.bytes("memory_budget", DEFAULT_MEMORY_BUDGET, 1024);
    ConfigNode cache = node.object("decision_cache");
    cache.allowOnly("sampled", "not_sampled");
    int sampled = (int) cache.integer("sampled", DEFAULT_CACHE_SIZE, 0, 100_000_000);
    int notSampled = (int) cache.integer("not_sampled", DEFAULT_CACHE_SIZE, 0, 100_000_000);
    List<SamplingPolicy> policies = SamplingPolicy.readAll(node, "policies");
    if (node.problems() > before) {
      return null;
    }
    return node.build(null, () -> new TailSamplingProcessorConfig(name, wait, budget, sampled, notSampled,
        policies));
  }
}
