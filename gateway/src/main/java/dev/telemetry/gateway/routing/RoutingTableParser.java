package dev.telemetry.gateway.routing;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import dev.telemetry.gateway.config.ConfigNode;
import dev.telemetry.gateway.config.JsonDescriptions;
import dev.telemetry.gateway.otlp.Signal;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads a routing table from JSON and validates it against the gateway's components. Every problem is reported with
 * its JSON path and a fix, all at once; beyond the JSON Schema it checks names (exporters in the right pipeline,
 * redaction profiles, sampling policy sets), duplicate rule IDs, and rules that an earlier rule shadows.
 */
public final class RoutingTableParser {
  private static final java.util.regex.Pattern RULE_ID = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:-]*");
  private static final java.util.regex.Pattern HEADER = java.util.regex.Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]+");
  private static final Map<String, Integer> SEVERITIES = Map.of("TRACE", 1, "DEBUG", 5, "INFO", 9, "WARN", 13,
      "ERROR", 17, "FATAL", 21);
  private static final Set<String> SPAN_KINDS = Set.of("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER",
      "CONSUMER");
  private static final Set<String> SPAN_STATUSES = Set.of("UNSET", "OK", "ERROR");
  private static final List<String> MATCH_KEYS = List.of("all", "any", "not", "signal", "tenant", "resource", "scope",
      "attribute", "severity", "body", "span_name", "span_kind", "span_status", "metric_name");

  private final RoutingCatalog catalog;
  /** The table's root; every problem is reported on it, with its JSON path. */
  private final ConfigNode root;

  private RoutingTableParser(RoutingCatalog catalog, ConfigNode root) {
    this.catalog = catalog;
    this.root = root;
  }

  /** Parses and validates a table; throws with every problem found. */
  public static RoutingTable parse(String text, RoutingCatalog catalog) throws RoutingTableException {
    JsonObject json;
    try {
      json = new JsonObject(text);
    } catch (DecodeException e) {
      throw new RoutingTableException(List.of("(root): not valid JSON: " + e.getMessage()));
    } catch (ClassCastException e) {
      throw new RoutingTableException(List.of("(root): expected a JSON object"));
    }
    return parse(json, catalog);
  }

  public static RoutingTable parse(JsonObject json, RoutingCatalog catalog) throws RoutingTableException {
    ConfigNode root = ConfigNode.literal(json);
    RoutingTable t = new RoutingTableParser(catalog, root).table();
    if (root.problems() > 0) {
      throw new RoutingTableException(root.problemList());
    }
    return t;
  }

  private RoutingTable table() {
    root.allowOnly("$schema", "description", "tenant", "rules", "default");
    TenantSource tenant = tenant();
    List<Rule> rules = new ArrayList<>();
    List<String> rulePaths = new ArrayList<>();
    Object rs = root.value("rules");
    if (rs == null) {
      problem("rules", "is required (a list; it may be empty)");
    } else if (!(rs instanceof JsonArray)) {
      problem("rules", "expected a list of rules, found " + describe(rs));
    } else {
      Map<String, String> ids = new HashMap<>();
      for (ConfigNode r : root.objectList("rules")) {
        int before = root.problems();
        Rule rule = rule(r);
        if (rule != null) {
          String earlier = ids.putIfAbsent(rule.id(), r.path());
          if (earlier != null) {
            r.error("id", "rule ID \"" + rule.id() + "\" is already used by " + earlier
                + "; rule IDs must be unique (they name the rule in metrics, explain and audit lines)");
          } else if (root.problems() == before) {
            rules.add(rule);
            rulePaths.add(r.path());
          }
        }
      }
    }
    Map<Signal, Action> defaults = defaults();
    reportShadowed(rules, rulePaths);
    return new RoutingTable(tenant, rules, defaults, root.json());
  }

  private TenantSource tenant() {
    if (!root.has("tenant")) {
      return TenantSource.NONE;
    }
    ConfigNode t = root.object("tenant");
    t.allowOnly("header", "attribute", "default");
    String header = t.nonBlankString("header");
    if (header != null && !HEADER.matcher(header).matches()) {
      t.error("header", "\"" + header + "\" is not a valid HTTP header name");
    }
    String attribute = t.nonBlankString("attribute");
    String fallback = t.nonBlankString("default");
    if (header == null && attribute == null) {
      t.error(null, "set header (e.g. \"X-Scope-OrgID\") and/or attribute (e.g. \"tenant.id\")");
    }
    return new TenantSource(header == null ? null : header.toLowerCase(Locale.ROOT), attribute, fallback);
  }

  private Rule rule(ConfigNode r) {
    r.allowOnly("id", "description", "match", "exporters", "elasticsearch", "sampling", "redaction", "drop",
        "continue");
    String id = r.nonBlankString("id");
    if (id == null) {
      if (!r.has("id")) {
        r.error("id", "is required: a short unique name such as \"payments-prod\"");
      }
    } else if (!RULE_ID.matcher(id).matches()) {
      r.error("id", "\"" + id + "\" is not a valid rule ID (letters, digits, and _ . : - after the first "
          + "character)");
    } else if (id.equals(Route.DEFAULT_ID)) {
      r.error("id", "\"default\" is reserved for the default route; choose another ID");
    }
    String description = r.nonBlankString("description");
    Match match;
    if (!r.json().containsKey("match")) {
      r.error("match", "is required; use {} to match everything");
      match = Match.ALWAYS;
    } else {
      match = expr(r.value("match"), r.pathOf("match"));
    }
    boolean cont = r.bool("continue", false);
    Set<Signal> signals = possibleSignals(match);
    Action action = action(r, signals);
    if (action == null) {
      return null;
    }
    if (action.drop() && cont) {
      r.error("continue", "a rule that drops items cannot continue; remove \"continue\" or \"drop\"");
    }
    if (!action.drop() && action.exporters() == null && action.elasticsearch() == null && action.sampling() == null
        && action.redaction() == null) {
      r.error(null, "the rule does nothing: give it exporters, elasticsearch, sampling, redaction, or drop: true");
    }
    if (signals.isEmpty()) {
      r.error("match", "can match no signal that has a pipeline (pipelines: " + names(catalog.signals()) + ")");
    }
    return id == null ? null : new Rule(id, description, match, action, cont);
  }

  private Map<Signal, Action> defaults() {
    Map<Signal, Action> out = new java.util.EnumMap<>(Signal.class);
    if (!root.has("default")) {
      return out;
    }
    ConfigNode d = root.object("default");
    d.allowOnly("traces", "metrics", "logs");
    for (Map.Entry<String, ConfigNode> e : d.entries().entrySet()) {
      Signal s = signalOf(e.getKey());
      if (s == null) {
        continue;
      }
      ConfigNode a = e.getValue();
      if (!catalog.signals().contains(s)) {
        a.error(null, "there is no " + e.getKey() + " pipeline in the gateway config; remove this default or add "
            + "the pipeline");
        continue;
      }
      a.allowOnly("exporters", "elasticsearch", "sampling", "redaction", "drop");
      Action action = action(a, EnumSet.of(s));
      if (action != null) {
        out.put(s, action);
      }
    }
    return out;
  }

  /** The action keys of a rule or default; {@code signals} are those the rule can match (for name checks). */
  private Action action(ConfigNode r, Set<Signal> signals) {
    boolean drop = r.bool("drop", false);
    List<String> exporters = null;
    if (r.has("exporters")) {
      exporters = r.stringList("exporters", List.of());
      if (r.value("exporters") instanceof JsonArray a && a.isEmpty()) {
        r.error("exporters", "is empty; list at least one exporter, or use \"drop\": true");
      }
      for (int i = 0; i < exporters.size(); i++) {
        String x = exporters.get(i);
        if (exporters.indexOf(x) != i) {
          r.error("exporters[" + i + "]", "exporter \"" + x + "\" is listed twice");
        }
        for (Signal s : signals) {
          List<String> inPipeline = catalog.pipelineExporters().get(s);
          if (inPipeline != null && !inPipeline.contains(x)) {
            r.error("exporters[" + i + "]", "exporter \"" + x + "\" is not in the " + s.id()
                + " pipeline (it has: " + String.join(", ", inPipeline) + "), and this rule can match " + s.id()
                + "; add {\"signal\": \"...\"} to the match to narrow it, or add the exporter to pipelines."
                + s.id() + ".exporters in the gateway config");
          }
        }
      }
    }
    Action.ElasticsearchTarget es = null;
    if (r.has("elasticsearch")) {
      ConfigNode e = r.object("elasticsearch");
      e.allowOnly("dataset", "namespace", "index");
      String dataset = e.nonBlankString("dataset");
      String namespace = e.nonBlankString("namespace");
      String index = e.nonBlankString("index");
      es = e.build(null, () -> new Action.ElasticsearchTarget(dataset, namespace, index));
      if (!signals.contains(Signal.LOGS)) {
        e.error(null, "applies to logs only, and this rule cannot match logs");
      }
    }
    String sampling = r.nonBlankString("sampling");
    if (sampling != null) {
      if (!catalog.samplingPolicySets().contains(sampling)) {
        r.error("sampling", "no tail_sampling processor named \"" + sampling + "\" (defined: "
            + names(catalog.samplingPolicySets()) + ")");
      }
      if (!signals.contains(Signal.TRACES)) {
        r.error("sampling", "tail sampling applies to traces only, and this rule cannot match traces");
      }
    }
    String redaction = r.nonBlankString("redaction");
    if (redaction != null && !catalog.redactionProfiles().contains(redaction)) {
      r.error("redaction", "no redaction processor named \"" + redaction + "\" (defined: "
          + names(catalog.redactionProfiles()) + ")");
    }
    if (drop && (exporters != null || es != null || sampling != null || redaction != null)) {
      r.error("drop", "a dropping rule takes no exporters, elasticsearch, sampling or redaction; remove them or "
          + "remove \"drop\"");
      return null;
    }
    return drop ? Action.DROP : new Action(false, exporters, es, sampling, redaction);
  }

  // ---------------------------------------------------------------- match expressions

  private Match expr(Object v, String path) {
    if (!(v instanceof JsonObject o)) {
      problem(path, "expected a condition object, found " + describe(v));
      return Match.ALWAYS;
    }
    List<Match> terms = new ArrayList<>();
    for (String key : o.fieldNames()) {
      String kp = ConfigNode.child(path, key);
      Object val = o.getValue(key);
      switch (key) {
        case "all", "any" -> {
          if (!(val instanceof JsonArray a)) {
            problem(kp, "expected a list of conditions, found " + describe(val));
            continue;
          }
          if (a.isEmpty()) {
            problem(kp, "is empty; list at least one condition");
            continue;
          }
          List<Match> subs = new ArrayList<>();
          for (int i = 0; i < a.size(); i++) {
            subs.add(expr(a.getValue(i), kp + "[" + i + "]"));
          }
          terms.add(key.equals("all") ? new Match.All(subs) : new Match.Any(subs));
        }
        case "not" -> terms.add(new Match.Not(expr(val, kp)));
        case "resource", "attribute" -> {
          if (!(val instanceof JsonObject attrs) || attrs.isEmpty()) {
            problem(kp, "expected an object of attribute key to condition, e.g. {\"service.name\": "
                + "{\"prefix\": \"payments-\"}}, found " + describe(val));
            continue;
          }
          Subject s = key.equals("resource") ? Subject.RESOURCE : Subject.ATTRIBUTE;
          for (String attr : attrs.fieldNames()) {
            Operator op = op(s, attrs.getValue(attr), ConfigNode.child(kp, attr));
            if (op != null) {
              terms.add(new Match.Test(s, attr, op));
            }
          }
        }
        case "scope" -> {
          if (!(val instanceof JsonObject sc) || sc.isEmpty()) {
            problem(kp, "expected an object with name and/or version, found " + describe(val));
            continue;
          }
          root.nodeAt(kp, sc).allowOnly("name", "version");
          for (String f : sc.fieldNames()) {
            Subject s = f.equals("name") ? Subject.SCOPE_NAME : f.equals("version") ? Subject.SCOPE_VERSION : null;
            if (s != null) {
              Operator op = op(s, sc.getValue(f), ConfigNode.child(kp, f));
              if (op != null) {
                terms.add(new Match.Test(s, null, op));
              }
            }
          }
        }
        default -> {
          Subject s = switch (key) {
            case "signal" -> Subject.SIGNAL;
            case "tenant" -> Subject.TENANT;
            case "severity" -> Subject.SEVERITY;
            case "body" -> Subject.BODY;
            case "span_name" -> Subject.SPAN_NAME;
            case "span_kind" -> Subject.SPAN_KIND;
            case "span_status" -> Subject.SPAN_STATUS;
            case "metric_name" -> Subject.METRIC_NAME;
            default -> null;
          };
          if (s == null) {
            problem(kp, "unknown condition (known: " + String.join(", ", MATCH_KEYS) + ")");
            continue;
          }
          Operator op = op(s, val, kp);
          if (op != null) {
            terms.add(new Match.Test(s, null, op));
          }
        }
      }
    }
    return terms.size() == 1 ? terms.get(0) : new Match.All(terms);
  }

  /** An operator object ({@code {"prefix": "x"}}) or a bare scalar, which means {@code equals}. */
  private Operator op(Subject s, Object v, String path) {
    String name;
    Object arg;
    String argPath;
    if (v instanceof JsonObject o) {
      if (o.size() != 1) {
        problem(path, "expected exactly one operator (equals, in, prefix, regex, exists"
            + (s == Subject.SEVERITY ? ", at_least" : "") + "), found " + (o.isEmpty() ? "none" : o.fieldNames()));
        return null;
      }
      name = o.fieldNames().iterator().next();
      arg = o.getValue(name);
      argPath = ConfigNode.child(path, name);
    } else if (isScalar(v)) {
      name = "equals";
      arg = v;
      argPath = path;
    } else {
      problem(path, "expected a value or an operator object such as {\"in\": [...]}, found " + describe(v));
      return null;
    }
    if (s == Subject.SEVERITY) {
      return severity(name, arg, argPath);
    }
    Set<String> allowed = switch (s) {
      case SIGNAL -> Set.of("traces", "metrics", "logs");
      case SPAN_KIND -> SPAN_KINDS;
      case SPAN_STATUS -> SPAN_STATUSES;
      default -> null;
    };
    switch (name) {
      case "equals" -> {
        String text = scalar(arg, argPath);
        text = enumerated(s, allowed, text, argPath);
        return text == null ? null : new Operator.Equals(text);
      }
      case "in" -> {
        if (!(arg instanceof JsonArray a) || a.isEmpty()) {
          problem(argPath, "expected a non-empty list of values, found " + describe(arg));
          return null;
        }
        Set<String> values = new LinkedHashSet<>();
        for (int i = 0; i < a.size(); i++) {
          String text = enumerated(s, allowed, scalar(a.getValue(i), argPath + "[" + i + "]"),
              argPath + "[" + i + "]");
          if (text != null) {
            values.add(text);
          }
        }
        return values.isEmpty() ? null : new Operator.In(values);
      }
      case "prefix", "regex" -> {
        if (allowed != null) {
          problem(argPath, s.jsonName() + " takes equals or in (values: " + String.join(", ", new TreeSet<>(allowed))
              + ")");
          return null;
        }
        if (!(arg instanceof String str)) {
          problem(argPath, "expected a string, found " + describe(arg));
          return null;
        }
        if (name.equals("prefix")) {
          return new Operator.Prefix(str);
        }
        try {
          return new Operator.Regex(str, Pattern.compile(str));
        } catch (PatternSyntaxException e) {
          problem(argPath, "invalid RE2 regular expression: " + e.getMessage() + " (RE2 has no backreferences or "
              + "lookaround; matching is unanchored, use ^ and $ to match the whole value)");
          return null;
        }
      }
      case "exists" -> {
        if (s == Subject.SIGNAL || s == Subject.SPAN_KIND || s == Subject.SPAN_STATUS) {
          problem(argPath, s.jsonName() + " is always present; use equals or in");
          return null;
        }
        if (!(arg instanceof Boolean b)) {
          problem(argPath, "expected true or false, found " + describe(arg));
          return null;
        }
        return new Operator.Exists(b);
      }
      default -> {
        problem(argPath, "unknown operator \"" + name + "\" (known: equals, in, prefix, regex, exists"
            + (s == Subject.SEVERITY ? ", at_least" : "") + ")");
        return null;
      }
    }
  }

  private String enumerated(Subject s, Set<String> allowed, String text, String path) {
    if (text == null || allowed == null) {
      return text;
    }
    String norm = s == Subject.SIGNAL ? text.toLowerCase(Locale.ROOT) : text.toUpperCase(Locale.ROOT);
    if (!allowed.contains(norm)) {
      problem(path, "\"" + text + "\" is not a " + s.jsonName() + " (values: " + String.join(", ",
          new TreeSet<>(allowed)) + ")");
      return null;
    }
    return norm;
  }

  private Operator severity(String name, Object arg, String path) {
    switch (name) {
      case "exists" -> {
        if (!(arg instanceof Boolean b)) {
          problem(path, "expected true or false, found " + describe(arg));
          return null;
        }
        return new Operator.Exists(b);
      }
      case "equals" -> {
        int[] r = severityRange(arg, path);
        return r == null ? null : new Operator.SeverityIn(List.<int[]>of(r));
      }
      case "at_least" -> {
        int[] r = severityRange(arg, path);
        return r == null ? null : new Operator.SeverityIn(List.<int[]>of(new int[] {r[0], 24}));
      }
      case "in" -> {
        if (!(arg instanceof JsonArray a) || a.isEmpty()) {
          problem(path, "expected a non-empty list of severities, found " + describe(arg));
          return null;
        }
        List<int[]> ranges = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
          int[] r = severityRange(a.getValue(i), path + "[" + i + "]");
          if (r != null) {
            ranges.add(r);
          }
        }
        return ranges.isEmpty() ? null : new Operator.SeverityIn(ranges);
      }
      default -> {
        problem(path, "severity takes equals, in, at_least or exists (a name such as \"WARN\" covers WARN..WARN4; "
            + "a number 1-24 is exact)");
        return null;
      }
    }
  }

  private int[] severityRange(Object v, String path) {
    if (v instanceof Number n && n.doubleValue() == n.intValue() && n.intValue() >= 1 && n.intValue() <= 24) {
      return new int[] {n.intValue(), n.intValue()};
    }
    if (v instanceof String s) {
      Integer base = SEVERITIES.get(s.toUpperCase(Locale.ROOT));
      if (base != null) {
        return new int[] {base, base + 3};
      }
    }
    problem(path, "expected a severity name (TRACE, DEBUG, INFO, WARN, ERROR, FATAL) or number 1-24, found "
        + describe(v));
    return null;
  }

  // ---------------------------------------------------------------- shadowing

  /** The signals a rule can match: those allowed by its top-level signal conditions, among those with pipelines. */
  private Set<Signal> possibleSignals(Match m) {
    Set<Signal> out = EnumSet.noneOf(Signal.class);
    out.addAll(catalog.signals());
    for (Match c : Match.conjuncts(m)) {
      if (c instanceof Match.Test t && t.subject() == Subject.SIGNAL) {
        out.removeIf(s -> !t.op().test(s.id()));
      }
    }
    return out;
  }

  private void reportShadowed(List<Rule> rules, List<String> paths) {
    for (int j = 1; j < rules.size(); j++) {
      for (int i = 0; i < j; i++) {
        Rule earlier = rules.get(i);
        if (!earlier.cont() && covers(earlier.match(), rules.get(j).match())) {
          problem(paths.get(j), "rule \"" + rules.get(j).id() + "\" can never match: rule \"" + earlier.id()
              + "\" (" + paths.get(i) + ") matches everything it matches and does not continue; move \""
              + rules.get(j).id() + "\" above it, narrow \"" + earlier.id() + "\", or give \"" + earlier.id()
              + "\" \"continue\": true");
          break;
        }
      }
    }
  }

  /**
   * Whether every item matching {@code specific} also matches {@code general}. Conservative: true only when each
   * condition of {@code general} is implied by a condition of {@code specific} (or, for signal, by the signals
   * {@code specific} can match), so a reported shadow is always real.
   */
  boolean covers(Match general, Match specific) {
    List<Match> spec = Match.conjuncts(specific);
    Set<Signal> specSignals = possibleSignals(specific);
    for (Match g : Match.conjuncts(general)) {
      if (g instanceof Match.Test gt && gt.subject() == Subject.SIGNAL) {
        if (!specSignals.stream().allMatch(s -> gt.op().test(s.id()))) {
          return false;
        }
        continue;
      }
      if (spec.stream().noneMatch(s -> implies(s, g))) {
        return false;
      }
    }
    return true;
  }

  private static boolean implies(Match s, Match g) {
    if (s.equals(g)) {
      return true;
    }
    if (g instanceof Match.Any any) {
      return any.of().stream().anyMatch(x -> implies(s, x));
    }
    if (s instanceof Match.Test st && g instanceof Match.Test gt) {
      return st.subject() == gt.subject() && java.util.Objects.equals(st.key(), gt.key())
          && st.op().implies(gt.op());
    }
    return false;
  }

  // ---------------------------------------------------------------- JSON helpers

  /** A problem at a path inside a match expression (which is walked as raw JSON values). */
  private void problem(String path, String what) {
    root.errorAt(path, what);
  }

  private static boolean isScalar(Object v) {
    return v instanceof String || v instanceof Number || v instanceof Boolean;
  }

  /** The canonical text of a scalar, as attribute values are compared. */
  private String scalar(Object v, String path) {
    if (v instanceof String s) {
      return s;
    }
    if (v instanceof Boolean b) {
      return b.toString();
    }
    if (v instanceof Number n) {
      if (v instanceof Double || v instanceof Float || v instanceof java.math.BigDecimal) {
        return MatchContext.text(n.doubleValue());
      }
      return Long.toString(n.longValue());
    }
    problem(path, "expected a string, number or boolean, found " + describe(v));
    return null;
  }

  private static Signal signalOf(String id) {
    try {
      return Signal.fromId(id);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static String names(Set<?> s) {
    if (s.isEmpty()) {
      return "none";
    }
    TreeSet<String> sorted = new TreeSet<>();
    s.forEach(x -> sorted.add(x instanceof Signal sig ? sig.id() : x.toString()));
    return String.join(", ", sorted);
  }

  private static String describe(Object v) {
    return JsonDescriptions.describe(v);
  }

}
