package dev.telemetry.gateway.processor.redaction;

import dev.telemetry.gateway.config.ConfigNode;
import dev.telemetry.gateway.config.ProcessorConfig;
import java.util.ArrayList;
import java.util.HashSet;

import dev.telemetry.gateway.otlp.Signal;
import java.util.List;
import java.util.Set;

/**
 * The PII redaction processor: an optional allow-list of item attribute keys, blocked key patterns whose values are
 * always redacted, and rules that find sensitive values (a built-in detector or a user RE2 pattern) and mask, hash or
 * drop them, optionally only for some signals and services.
 */
public record RedactionProcessorConfig(String name, List<String> allowedKeys, List<String> blockedKeys,
                                       Action blockedKeyAction, String hashKey, List<Rule> rules, boolean summary)
    implements ProcessorConfig {
  public static final String TYPE = "redaction";
  public static final List<String> DETECTORS = List.of("api_key", "bearer_token", "credit_card", "email", "iban",
      "ipv4", "ipv6", "jwt", "phone", "us_ssn");

  /** What happens to a found value. */
  public enum Action { MASK, HASH, DROP }

  /** One rule: exactly one of {@code detector} and {@code pattern}; empty signal/service sets mean "all". */
  public record Rule(String name, String detector, String pattern, Action action, Set<Signal> signals,
                     Set<String> services) {
    public Rule {
      signals = Set.copyOf(signals);
      services = Set.copyOf(services);
      if ((detector == null) == (pattern == null)) {
        throw new IllegalArgumentException("rule \"" + name + "\": give exactly one of detector and pattern");
      }
      if (detector != null && !DETECTORS.contains(detector)) {
        throw new IllegalArgumentException("rule \"" + name + "\": unknown detector \"" + detector
            + "\" (known detectors: " + String.join(", ", DETECTORS) + ")");
      }
      if (pattern != null) {
        try {
          com.google.re2j.Pattern.compile(pattern);
        } catch (com.google.re2j.PatternSyntaxException e) {
          throw new IllegalArgumentException("rule \"" + name + "\": invalid RE2 pattern: " + e.getMessage()
              + " (RE2 matches in linear time, so it has no lookaround or backreferences)");
        }
      }
    }
  }

  public RedactionProcessorConfig {
    allowedKeys = List.copyOf(allowedKeys);
    blockedKeys = List.copyOf(blockedKeys);
    rules = List.copyOf(rules);
    boolean hashing = blockedKeyAction == Action.HASH && !blockedKeys.isEmpty()
        || rules.stream().anyMatch(r -> r.action() == Action.HASH);
    if (hashing && (hashKey == null || hashKey.length() < 16)) {
      throw new IllegalArgumentException("hash_key: the hash action needs a secret of at least 16 characters "
          + "(e.g. \"${env:REDACTION_HASH_KEY}\")");
    }
    for (String p : blockedKeys) {
      try {
        com.google.re2j.Pattern.compile(p);
      } catch (com.google.re2j.PatternSyntaxException e) {
        throw new IllegalArgumentException("blocked_keys: invalid RE2 pattern \"" + p + "\": " + e.getMessage());
      }
    }
  }

  @Override
  public String type() {
    return TYPE;
  }

  /** Reads a processor of type {@value #TYPE}. */
  public static RedactionProcessorConfig read(String name, ConfigNode node) {
    int before = node.problems();
    node.allowOnly("type", "allowed_keys", "blocked_keys", "blocked_key_action", "hash_key", "rules", "summary");
    List<String> allowed = node.stringList("allowed_keys", List.of());
    List<String> blocked = node.stringList("blocked_keys", List.of());
    Action blockedAction = node.enumValue("blocked_key_action", Action.class, Action.MASK);
    String hashKey = node.string("hash_key", "");
    boolean summary = node.bool("summary", false);
    List<Rule> rules = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (ConfigNode r : node.objectList("rules")) {
      r.allowOnly("name", "detector", "pattern", "action", "signals", "services");
      String ruleName = r.string("name", null);
      String detector = r.has("detector") ? r.string("detector", null) : null;
      String pattern = r.has("pattern") ? r.string("pattern", null) : null;
      Action action = r.enumValue("action", Action.class, Action.MASK);
      Set<Signal> signals = new HashSet<>();
      for (String s : r.stringList("signals", List.of())) {
        try {
          signals.add(Signal.fromId(s));
        } catch (IllegalArgumentException e) {
          r.error("signals", "\"" + s + "\" is not one of traces, metrics, logs");
        }
      }
      Set<String> services = new HashSet<>(r.stringList("services", List.of()));
      if (ruleName != null && !names.add(ruleName)) {
        r.error("name", "rule name \"" + ruleName + "\" is used twice");
      }
      if (ruleName != null) {
        Rule rule = r.build(null, () -> new Rule(ruleName, detector, pattern, action, signals, services));
        if (rule != null) {
          rules.add(rule);
        }
      }
    }
    if (node.problems() > before) {
      return null;
    }
    return node.build(null, () -> new RedactionProcessorConfig(name, allowed, blocked, blockedAction,
        hashKey.isEmpty() ? null : hashKey, rules, summary));
  }
}
