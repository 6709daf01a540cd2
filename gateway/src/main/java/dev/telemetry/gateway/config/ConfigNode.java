package dev.telemetry.gateway.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A JSON object of the config file together with its JSON path. Typed getters apply {@code ${env:...}}
 * substitution, check types and ranges, and report problems with the full path instead of throwing, so that one load
 * lists every mistake. A getter that found a problem returns the default (or null) and the caller builds nothing.
 */
public final class ConfigNode {
  private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)");
  private static final Duration MAX_DURATION = Duration.ofDays(3650);
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KB|KiB|MB|MiB|GB|GiB)?", Pattern.CASE_INSENSITIVE);
  /** Keys written plainly in a path; any other key (an attribute name with dots, say) is quoted: a["k.8s"]. */
  private static final Pattern PLAIN_KEY = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$-]*");

  private final String path;
  private final JsonObject json;
  private final ConfigErrors errors;
  private final EnvSubstitution env;

  ConfigNode(String path, JsonObject json, ConfigErrors errors, EnvSubstitution env) {
    this.path = path;
    this.json = json;
    this.errors = errors;
    this.env = env;
  }

  /**
   * The root of a JSON document read as it is, without environment substitution (a routing table is written back
   * to its file, so what it says must be what it holds). Problems are collected for {@link #problemList()}.
   */
  public static ConfigNode literal(JsonObject json) {
    return new ConfigNode("", json, new ConfigErrors(), EnvSubstitution.NONE);
  }

  /** Every problem reported on this document so far, each as {@code path: problem}. */
  public List<String> problemList() {
    return errors.list();
  }

  public String path() {
    return path;
  }

  /** The path of {@code fragment} below this node: a key, or a key with an index such as {@code values[2]}. */
  public String pathOf(String fragment) {
    return path.isEmpty() ? fragment : path + "." + fragment;
  }

  /** The path of the value at {@code key} below {@code path}, quoting keys that are not plain names. */
  public static String child(String path, String key) {
    if (!PLAIN_KEY.matcher(key).matches()) {
      return path + "[\"" + key.replace("\"", "\\\"") + "\"]";
    }
    return path.isEmpty() ? key : path + "." + key;
  }

  /** This node's JSON object, for readers that walk a free-form structure (routing match expressions). */
  public JsonObject json() {
    return json;
  }

  /** A node for a nested object found at {@code absolutePath} (reporting into the same document). */
  public ConfigNode nodeAt(String absolutePath, JsonObject nested) {
    return new ConfigNode(absolutePath, nested, errors, env);
  }

  /** Reports a problem at a path computed by the caller (e.g. inside a list of mixed values). */
  public void errorAt(String absolutePath, String problem) {
    errors.add(absolutePath, problem);
  }

  /** The raw value at {@code key} (null when absent), for values whose type decides how they are read. */
  public Object value(String key) {
    return json.getValue(key);
  }

  ConfigErrors errors() {
    return errors;
  }

  public boolean has(String key) {
    return json.containsKey(key) && json.getValue(key) != null;
  }

  public boolean isBoolean(String key) {
    return json.getValue(key) instanceof Boolean;
  }

  public void error(String key, String problem) {
    errors.add(key == null ? path : pathOf(key), problem);
  }

  /** Reports every key not in {@code known}: typos must not be ignored silently. */
  public void allowOnly(String... known) {
    Set<String> k = Set.of(known);
    for (String key : json.fieldNames()) {
      if (!k.contains(key)) {
        errors.add(child(path, key), "unknown key (known keys here: " + String.join(", ", new TreeSet<>(k)) + ")");
      }
    }
  }

  /** The child object at {@code key}; an empty object when absent, so defaults apply. */
  public ConfigNode object(String key) {
    Object v = json.getValue(key);
    if (v == null) {
      return new ConfigNode(pathOf(key), new JsonObject(), errors, env);
    }
    if (!(v instanceof JsonObject o)) {
      error(key, "expected an object, found " + describe(v));
      return new ConfigNode(pathOf(key), new JsonObject(), errors, env);
    }
    return new ConfigNode(pathOf(key), o, errors, env);
  }

  /** A list of objects (e.g. lookup tables); each element carries its own path, {@code key[i]}. */
  public List<ConfigNode> objectList(String key) {
    Object v = json.getValue(key);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof JsonArray a)) {
      error(key, "expected a list of objects, found " + describe(v));
      return List.of();
    }
    List<ConfigNode> out = new ArrayList<>();
    for (int i = 0; i < a.size(); i++) {
      if (a.getValue(i) instanceof JsonObject o) {
        out.add(new ConfigNode(pathOf(key) + "[" + i + "]", o, errors, env));
      } else {
        errors.add(pathOf(key) + "[" + i + "]", "expected an object, found " + describe(a.getValue(i)));
      }
    }
    return out;
  }

  /** The entries of a map-like object (e.g. {@code exporters}), in file order. */
  public Map<String, ConfigNode> entries() {
    Map<String, ConfigNode> out = new LinkedHashMap<>();
    for (String key : json.fieldNames()) {
      Object v = json.getValue(key);
      if (v instanceof JsonObject o) {
        out.put(key, new ConfigNode(child(path, key), o, errors, env));
      } else {
        error(key, "expected an object, found " + describe(v));
      }
    }
    return out;
  }

  private Object raw(String key) {
    Object v = json.getValue(key);
    if (v instanceof String s) {
      return env.apply(s, pathOf(key), errors);
    }
    return v;
  }

  /** An optional string that must not be blank when given: null when absent. */
  public String nonBlankString(String key) {
    Object v = raw(key);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s) || s.isBlank()) {
      error(key, "expected a non-empty string, found " + describe(v));
      return null;
    }
    return s;
  }

  /** A string; {@code def == null} makes it required. */
  public String string(String key, String def) {
    Object v = raw(key);
    if (v == null) {
      if (def == null) {
        error(key, "is required");
      }
      return def;
    }
    if (!(v instanceof String s)) {
      error(key, "expected a string, found " + describe(v));
      return def;
    }
    return s;
  }

  public <E extends Enum<E>> E enumValue(String key, Class<E> type, E def) {
    String s = string(key, def == null ? null : def.name().toLowerCase(Locale.ROOT));
    if (s == null) {
      return def;
    }
    for (E e : type.getEnumConstants()) {
      if (e.name().equalsIgnoreCase(s)) {
        return e;
      }
    }
    List<String> names = new ArrayList<>();
    for (E e : type.getEnumConstants()) {
      names.add(e.name().toLowerCase(Locale.ROOT));
    }
    error(key, "\"" + s + "\" is not one of " + String.join(", ", names));
    return def;
  }

  public boolean bool(String key, boolean def) {
    Object v = raw(key);
    if (v == null) {
      return def;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    if (v instanceof String s && (s.equals("true") || s.equals("false"))) {
      return Boolean.parseBoolean(s);
    }
    error(key, "expected true or false, found " + describe(v));
    return def;
  }

  public long integer(String key, long def, long min, long max) {
    Object v = raw(key);
    if (v == null) {
      return def;
    }
    long n;
    if (v instanceof Number num && num.doubleValue() == Math.rint(num.doubleValue())) {
      n = num.longValue();
    } else if (v instanceof String s && s.matches("-?\\d{1,18}")) {
      n = Long.parseLong(s);
    } else if (v instanceof String s && s.matches("-?\\d+")) {
      error(key, s + " is out of range [" + min + ", " + max + "]");
      return def;
    } else {
      error(key, "expected an integer, found " + describe(v));
      return def;
    }
    if (n < min || n > max) {
      error(key, n + " is out of range [" + min + ", " + max + "]");
      return def;
    }
    return n;
  }

  public double number(String key, double def, double min, double max) {
    Object v = raw(key);
    if (v == null) {
      return def;
    }
    double n;
    if (v instanceof Number num) {
      n = num.doubleValue();
    } else {
      try {
        n = Double.parseDouble(String.valueOf(v));
      } catch (NumberFormatException e) {
        error(key, "expected a number, found " + describe(v));
        return def;
      }
    }
    if (!(n >= min && n <= max)) {
      error(key, n + " is out of range [" + min + ", " + max + "]");
      return def;
    }
    return n;
  }

  /** A byte size: an integer count of bytes or a string such as {@code "4MiB"} (KB = 1000, KiB = 1024). */
  public long bytes(String key, long def, long min) {
    Object v = raw(key);
    if (v == null) {
      return def;
    }
    long n;
    if (v instanceof Number num && num.doubleValue() == Math.rint(num.doubleValue())) {
      n = num.longValue();
    } else if (v instanceof String s && SIZE.matcher(s.trim()).matches()) {
      Matcher m = SIZE.matcher(s.trim());
      m.matches();
      long unit = switch (m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT)) {
        case "kb" -> 1000L;
        case "kib" -> 1024L;
        case "mb" -> 1000L * 1000;
        case "mib" -> 1024L * 1024;
        case "gb" -> 1000L * 1000 * 1000;
        case "gib" -> 1024L * 1024 * 1024;
        default -> 1L;
      };
      try {
        n = Math.multiplyExact(Long.parseLong(m.group(1)), unit);
      } catch (ArithmeticException | NumberFormatException e) {
        error(key, "is too large: " + s);
        return def;
      }
    } else {
      error(key, "expected a size such as 4194304 or \"4MiB\", found " + describe(v));
      return def;
    }
    if (n < min) {
      error(key, "must be at least " + min + " bytes, found " + n);
      return def;
    }
    return n;
  }

  /** A duration written as {@code "200ms"}, {@code "5s"}, {@code "2m"} or {@code "1h"}. */
  public Duration duration(String key, Duration def, Duration min) {
    Object v = raw(key);
    if (v == null) {
      return def;
    }
    Matcher m = v instanceof String s ? DURATION.matcher(s.trim()) : null;
    if (m == null || !m.matches()) {
      error(key, "expected a duration such as \"500ms\", \"5s\" or \"2m\", found " + describe(v));
      return def;
    }
    double amount = Double.parseDouble(m.group(1));
    long millis = Math.round(switch (m.group(2)) {
      case "ms" -> amount;
      case "s" -> amount * 1000;
      case "m" -> amount * 60_000;
      default -> amount * 3_600_000;
    });
    Duration d = Duration.ofMillis(millis);
    if (d.compareTo(MAX_DURATION) > 0) { // beyond any sensible setting, and nanoseconds must not overflow
      error(key, "must be at most " + MAX_DURATION.toDays() + " days, found " + v);
      return def;
    }
    if (d.compareTo(min) < 0) {
      error(key, "must be at least " + min.toMillis() + "ms, found " + v);
      return def;
    }
    return d;
  }

  /** A list of strings; {@code def == null} makes it required and non-empty. */
  public List<String> stringList(String key, List<String> def) {
    Object v = json.getValue(key);
    if (v == null) {
      if (def == null) {
        error(key, "is required (a non-empty list of names)");
      }
      return def;
    }
    if (!(v instanceof JsonArray a)) {
      error(key, "expected a list of strings, found " + describe(v));
      return def;
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < a.size(); i++) {
      Object e = a.getValue(i);
      if (e instanceof String s) {
        out.add(env.apply(s, pathOf(key) + "[" + i + "]", errors));
      } else {
        errors.add(pathOf(key) + "[" + i + "]", "expected a string, found " + describe(e));
      }
    }
    if (out.isEmpty() && def == null) {
      error(key, "must not be empty");
    }
    return Collections.unmodifiableList(out);
  }

  /** A list of whole numbers (e.g. percentages). */
  public List<Integer> integerList(String key) {
    Object v = json.getValue(key);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof JsonArray a)) {
      error(key, "expected a list of integers, found " + describe(v));
      return List.of();
    }
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < a.size(); i++) {
      if (a.getValue(i) instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
        out.add(n.intValue());
      } else {
        errors.add(pathOf(key) + "[" + i + "]", "expected an integer, found " + describe(a.getValue(i)));
      }
    }
    return out;
  }

  /** An object whose values are all strings (e.g. HTTP headers). */
  public Map<String, String> stringMap(String key) {
    Object v = json.getValue(key);
    if (v == null) {
      return Map.of();
    }
    if (!(v instanceof JsonObject o)) {
      error(key, "expected an object of strings, found " + describe(v));
      return Map.of();
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (String k : o.fieldNames()) {
      Object e = o.getValue(k);
      if (e instanceof String s) {
        out.put(k, env.apply(s, child(pathOf(key), k), errors));
      } else {
        errors.add(child(pathOf(key), k), "expected a string, found " + describe(e));
      }
    }
    return Collections.unmodifiableMap(out);
  }

  private static String describe(Object v) {
    return JsonDescriptions.describe(v);
  }

  /** How many problems the whole file has so far: a reader compares before and after to know if its part failed. */
  public int problems() {
    return errors.count();
  }

  /** Runs a record constructor and turns its validation failure into a problem at {@code key} (null: this node). */
  public <T> T build(String key, java.util.function.Supplier<T> constructor) {
    try {
      return constructor.get();
    } catch (IllegalArgumentException | NullPointerException e) {
      error(key, e.getMessage() == null ? "invalid" : e.getMessage());
      return null;
    }
  }

  /** A {@code host:port} string. */
  public HostPort hostPort(String key, HostPort def) {
    String s = string(key, def.toString());
    if (s == null) {
      return def;
    }
    try {
      return HostPort.parse(s);
    } catch (IllegalArgumentException e) {
      error(key, e.getMessage());
      return def;
    }
  }

  /** A required http(s) URL with host and port. */
  public java.net.URI url(String key) {
    String s = string(key, null);
    if (s == null) {
      return null;
    }
    java.net.URI u = parseUrl(s);
    if (u == null) {
      error(key, notAUrl(s));
    }
    return u;
  }

  /** A list of http(s) URLs; each bad one is reported at its index. */
  public List<java.net.URI> urls(String key) {
    List<String> strings = stringList(key, null);
    List<java.net.URI> out = new ArrayList<>();
    for (int i = 0; strings != null && i < strings.size(); i++) {
      java.net.URI u = parseUrl(strings.get(i));
      if (u == null) {
        error(key + "[" + i + "]", notAUrl(strings.get(i)));
      } else {
        out.add(u);
      }
    }
    return out;
  }

  private static String notAUrl(String s) {
    return "not a URL: \"" + s + "\" (expected http://host:port, or https://host:port for TLS)";
  }

  private static java.net.URI parseUrl(String s) {
    try {
      java.net.URI u = new java.net.URI(s);
      if (u.getScheme() == null || u.getHost() == null || u.getPort() < 0
          || !(u.getScheme().equals("http") || u.getScheme().equals("https"))) {
        return null;
      }
      return u;
    } catch (java.net.URISyntaxException e) {
      return null;
    }
  }

}
