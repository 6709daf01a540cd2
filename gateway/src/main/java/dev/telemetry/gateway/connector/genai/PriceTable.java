package dev.telemetry.gateway.connector.genai;

import dev.telemetry.gateway.config.ConfigNode;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What model calls cost: USD per million input, output and cached input tokens, per provider and model, from an
 * effective date (UTC). A model is matched exactly, or by a prefix written with a trailing {@code *}
 * ({@code "gpt-4o-mini*"} covers dated snapshots); the exact name wins, then the longest prefix. Of a model's
 * prices the latest one in effect at the call's time applies. A model the table does not name has no price: its
 * tokens are counted as unpriced, never guessed.
 *
 * <pre>{"prices": [{"provider": "openai", "model": "gpt-4o", "effective_from": "2026-01-01",
 *   "input_per_million": 2.5, "output_per_million": 10, "cached_input_per_million": 1.25}]}</pre>
 */
public final class PriceTable {
  /** One price line; {@code cachedInput} null: cached input tokens cost the input price. */
  public record Price(String provider, String model, LocalDate effectiveFrom, double input, double output,
                      Double cachedInput) {
    /** Cost in USD of a call's tokens; {@code cached} are included in {@code input}, as the conventions say. */
    public double cost(long input, long output, long cached) {
      long cachedPart = Math.min(Math.max(cached, 0), Math.max(input, 0));
      double cachedPrice = cachedInput != null ? cachedInput : this.input;
      return ((Math.max(input, 0) - cachedPart) * this.input + cachedPart * cachedPrice
          + Math.max(output, 0) * this.output) / 1_000_000.0;
    }
  }

  public static final PriceTable EMPTY = new PriceTable(List.of());

  /** By provider (lower case): exact models, then prefixes longest first; each model's prices newest first. */
  private final Map<String, Map<String, List<Price>>> exact = new HashMap<>();
  private final Map<String, List<Map.Entry<String, List<Price>>>> prefixes = new HashMap<>();
  private final int size;

  private PriceTable(List<Price> prices) {
    size = prices.size();
    Map<String, Map<String, List<Price>>> prefixed = new HashMap<>();
    for (Price p : prices) {
      String provider = p.provider().toLowerCase(Locale.ROOT);
      boolean prefix = p.model().endsWith("*");
      String model = prefix ? p.model().substring(0, p.model().length() - 1) : p.model();
      (prefix ? prefixed : exact).computeIfAbsent(provider, k -> new HashMap<>())
          .computeIfAbsent(model, k -> new ArrayList<>()).add(p);
    }
    Comparator<Price> newestFirst = Comparator.comparing(Price::effectiveFrom).reversed();
    exact.values().forEach(m -> m.values().forEach(l -> l.sort(newestFirst)));
    prefixed.forEach((provider, m) -> {
      m.values().forEach(l -> l.sort(newestFirst));
      List<Map.Entry<String, List<Price>>> sorted = new ArrayList<>(m.entrySet());
      sorted.sort(Comparator.comparingInt((Map.Entry<String, List<Price>> e) -> e.getKey().length()).reversed());
      prefixes.put(provider, sorted);
    });
  }

  /** The price of {@code model} by {@code provider} at {@code epochNanos}, or null when the table has none. */
  public Price price(String provider, String model, long epochNanos) {
    if (provider == null || model == null) {
      return null;
    }
    String p = provider.toLowerCase(Locale.ROOT);
    LocalDate day = LocalDate.ofInstant(java.time.Instant.ofEpochSecond(0, epochNanos), ZoneOffset.UTC);
    Map<String, List<Price>> models = exact.get(p);
    if (models != null && models.containsKey(model)) {
      return inEffect(models.get(model), day);
    }
    for (Map.Entry<String, List<Price>> e : prefixes.getOrDefault(p, List.of())) {
      if (model.startsWith(e.getKey())) {
        return inEffect(e.getValue(), day);
      }
    }
    return null;
  }

  private static Price inEffect(List<Price> newestFirst, LocalDate day) {
    for (Price price : newestFirst) {
      if (!price.effectiveFrom().isAfter(day)) {
        return price;
      }
    }
    return null; // only prices that start later
  }

  public int size() {
    return size;
  }

  /** Parses a price table, reporting every problem with its JSON path; throws {@link PriceTableException}. */
  public static PriceTable parse(String text) throws PriceTableException {
    JsonObject json;
    try {
      json = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      throw new PriceTableException(List.of("not a JSON object: " + e.getMessage()));
    }
    ConfigNode root = ConfigNode.literal(json);
    root.allowOnly("$schema", "prices");
    if (!(json.getValue("prices") instanceof io.vertx.core.json.JsonArray)) {
      root.error("prices", "expected a list of prices, e.g. [{\"provider\": \"openai\", \"model\": \"gpt-4o\", "
          + "\"effective_from\": \"2026-01-01\", \"input_per_million\": 2.5, \"output_per_million\": 10}]");
    }
    List<Price> prices = new ArrayList<>();
    Map<String, String> seen = new HashMap<>();
    for (ConfigNode n : root.objectList("prices")) {
      n.allowOnly("provider", "model", "effective_from", "input_per_million", "output_per_million",
          "cached_input_per_million");
      String provider = n.string("provider", null);
      String model = n.string("model", null);
      LocalDate from = LocalDate.EPOCH;
      if (n.has("effective_from")) {
        try {
          from = LocalDate.parse(n.string("effective_from", ""));
        } catch (DateTimeParseException e) {
          n.error("effective_from", "expected a date like 2026-01-31, found \"" + n.value("effective_from") + "\"");
        }
      }
      if (!n.has("input_per_million")) {
        n.error("input_per_million", "required: USD per million input tokens");
      }
      if (!n.has("output_per_million")) {
        n.error("output_per_million", "required: USD per million output tokens (0 for embeddings)");
      }
      double input = n.number("input_per_million", 0, 0, 1_000_000);
      double output = n.number("output_per_million", 0, 0, 1_000_000);
      Double cached = n.has("cached_input_per_million")
          ? n.number("cached_input_per_million", 0, 0, 1_000_000) : null;
      if (provider != null && model != null) {
        String key = provider.toLowerCase(Locale.ROOT) + "\u0000" + model + "\u0000" + from;
        String earlier = seen.putIfAbsent(key, n.path());
        if (earlier != null) {
          n.error(null, "same provider, model and effective_from as " + earlier + "; remove one of them");
        }
        prices.add(new Price(provider, model, from, input, output, cached));
      }
    }
    List<String> problems = root.problemList();
    if (!problems.isEmpty()) {
      throw new PriceTableException(problems);
    }
    return new PriceTable(prices);
  }

  /** A price table that does not parse or validate; every problem with its JSON path. */
  public static final class PriceTableException extends Exception {
    private final List<String> problems;

    public PriceTableException(List<String> problems) {
      super(String.join("\n", problems));
      this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
      return problems;
    }
  }
}
