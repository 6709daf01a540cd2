package dev.telemetry.gateway.processor.sampling;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A boolean condition on one buffered span, written in the subset of OTTL (the Collector's transformation language)
 * that the span context of the Collector's {@code ottl_condition} policy is mostly written in, so such conditions
 * carry over unchanged:
 *
 * <pre>
 *   condition  := or
 *   or         := and ("or" and)*
 *   and        := unary ("and" unary)*
 *   unary      := "not" unary | "(" condition ")" | comparison | "IsMatch(" operand "," string ")" | operand
 *   comparison := sum ("==" | "!=" | "<" | "<=" | ">" | ">=") sum
 *   sum        := operand (("+" | "-") operand)*
 *   operand    := path | string | int | float | true | false | nil | SPAN_KIND_* | STATUS_CODE_*
 *   path       := name | kind | status.code | trace_state | flags | start_time_unix_nano | end_time_unix_nano
 *               | attributes["key"] | resource.attributes["key"] | instrumentation_scope.name
 * </pre>
 *
 * <p>Comparing values of different types is false (not an error), a missing attribute is {@code nil}, as in OTTL.
 * Parsing happens at config load, so a typo is reported with its column, not when the first trace is decided.
 */
final class SpanCondition {
  /** What a condition reads from the buffered span, so the sampler keeps exactly that. */
  record Needs(Set<String> attributeKeys, boolean spanName) {
  }

  /** A condition that does not parse: the message says where and what was expected. */
  static final class SyntaxException extends IllegalArgumentException {
    SyntaxException(String message) {
      super(message);
    }
  }

  private final Node root;
  private final Needs needs;

  private SpanCondition(Node root, Needs needs) {
    this.root = root;
    this.needs = needs;
  }

  /** Parses a condition or throws {@link SyntaxException}. */
  static SpanCondition parse(String text) {
    Parser p = new Parser(text);
    Node n = p.condition();
    p.expectEnd();
    return new SpanCondition(n, new Needs(Set.copyOf(p.attributeKeys), p.spanName));
  }

  Needs needs() {
    return needs;
  }

  boolean test(Trace.Entry span) {
    return truthy(root.eval(span));
  }

  private static boolean truthy(Object v) {
    return v instanceof Boolean b && b;
  }

  // ------------------------------------------------------------------ the tree

  private interface Node {
    Object eval(Trace.Entry e);
  }

  private record Literal(Object value) implements Node {
    @Override
    public Object eval(Trace.Entry e) {
      return value;
    }
  }

  private record Field(String path, java.util.function.Function<Trace.Entry, Object> getter) implements Node {
    @Override
    public Object eval(Trace.Entry e) {
      return getter.apply(e);
    }
  }

  private record Not(Node inner) implements Node {
    @Override
    public Object eval(Trace.Entry e) {
      return !truthy(inner.eval(e));
    }
  }

  private record Logical(boolean and, Node left, Node right) implements Node {
    @Override
    public Object eval(Trace.Entry e) {
      boolean l = truthy(left.eval(e));
      if (and ? !l : l) {
        return l;
      }
      return truthy(right.eval(e));
    }
  }

  private record Arithmetic(boolean plus, Node left, Node right) implements Node {
    @Override
    public Object eval(Trace.Entry e) {
      Object l = left.eval(e);
      Object r = right.eval(e);
      if (l instanceof Long a && r instanceof Long b) {
        return plus ? a + b : a - b;
      }
      if (l instanceof Number a && r instanceof Number b) {
        return plus ? a.doubleValue() + b.doubleValue() : a.doubleValue() - b.doubleValue();
      }
      return null;
    }
  }

  private record Comparison(String op, Node left, Node right) implements Node {
    @Override
    public Object eval(Trace.Entry e) {
      Object l = left.eval(e);
      Object r = right.eval(e);
      return switch (op) {
        case "==" -> same(l, r);
        case "!=" -> !same(l, r);
        default -> {
          Integer c = order(l, r);
          yield c != null && switch (op) {
            case "<" -> c < 0;
            case "<=" -> c <= 0;
            case ">" -> c > 0;
            default -> c >= 0;
          };
        }
      };
    }

    private static boolean same(Object l, Object r) {
      if (l instanceof Number a && r instanceof Number b) {
        return a.doubleValue() == b.doubleValue();
      }
      return Objects.equals(l, r);
    }

    private static Integer order(Object l, Object r) {
      if (l instanceof Long a && r instanceof Long b) {
        return Long.compare(a, b);
      }
      if (l instanceof Number a && r instanceof Number b) {
        return Double.compare(a.doubleValue(), b.doubleValue());
      }
      if (l instanceof String a && r instanceof String b) {
        return a.compareTo(b);
      }
      return null;
    }
  }

  private record IsMatch(Node target, Pattern pattern) implements Node {
    @Override
    public Object eval(Trace.Entry e) {
      return target.eval(e) instanceof String s && pattern.matcher(s).find();
    }
  }

  // ------------------------------------------------------------------ values

  private static final Map<String, Object> CONSTANTS = constants();

  private static Map<String, Object> constants() {
    Map<String, Object> m = new java.util.HashMap<>();
    for (Span.SpanKind k : Span.SpanKind.values()) {
      if (k != Span.SpanKind.UNRECOGNIZED) {
        m.put(k.name(), (long) k.getNumber());
      }
    }
    for (Status.StatusCode c : Status.StatusCode.values()) {
      if (c != Status.StatusCode.UNRECOGNIZED) {
        m.put(c.name(), (long) c.getNumber());
      }
    }
    return Map.copyOf(m);
  }

  private static Object value(AnyValue v) {
    return switch (v.getValueCase()) {
      case STRING_VALUE -> v.getStringValue();
      case INT_VALUE -> v.getIntValue();
      case DOUBLE_VALUE -> v.getDoubleValue();
      case BOOL_VALUE -> v.getBoolValue();
      default -> null;
    };
  }

  private static Object find(List<KeyValue> attributes, String key) {
    for (KeyValue kv : attributes) {
      if (kv.getKey().equals(key)) {
        return value(kv.getValue());
      }
    }
    return null;
  }

  // ------------------------------------------------------------------ the parser

  private static final class Parser {
    private final String text;
    private int pos;
    final Set<String> attributeKeys = new HashSet<>();
    boolean spanName;

    Parser(String text) {
      this.text = text;
    }

    Node condition() {
      Node left = and();
      while (keyword("or")) {
        left = new Logical(false, left, and());
      }
      return left;
    }

    private Node and() {
      Node left = unary();
      while (keyword("and")) {
        left = new Logical(true, left, unary());
      }
      return left;
    }

    private Node unary() {
      if (keyword("not")) {
        return new Not(unary());
      }
      if (symbol("(")) {
        Node inner = condition();
        expect(")");
        return inner;
      }
      if (keyword("IsMatch")) {
        expect("(");
        Node target = sum();
        expect(",");
        int at = skipSpace();
        Node pattern = operand();
        if (!(pattern instanceof Literal l && l.value() instanceof String re)) {
          throw error(at, "IsMatch takes a pattern string as its second argument");
        }
        expect(")");
        try {
          return new IsMatch(target, Pattern.compile(re));
        } catch (PatternSyntaxException e) {
          throw error(at, "invalid RE2 pattern: " + e.getMessage());
        }
      }
      Node left = sum();
      String op = comparator();
      return op == null ? left : new Comparison(op, left, sum());
    }

    private Node sum() {
      Node left = operand();
      while (true) {
        if (symbol("+")) {
          left = new Arithmetic(true, left, operand());
        } else if (symbol("-")) {
          left = new Arithmetic(false, left, operand());
        } else {
          return left;
        }
      }
    }

    private String comparator() {
      skipSpace();
      for (String op : List.of("==", "!=", "<=", ">=", "<", ">")) {
        if (text.startsWith(op, pos)) {
          pos += op.length();
          return op;
        }
      }
      return null;
    }

    private Node operand() {
      int at = skipSpace();
      if (pos >= text.length()) {
        throw error(at, "expected a value or a path, found the end");
      }
      char c = text.charAt(pos);
      if (c == '"') {
        return new Literal(string());
      }
      if (Character.isDigit(c) || c == '-' && Character.isDigit(peekAt(1))) {
        return new Literal(number());
      }
      String word = word();
      if (word.isEmpty()) {
        throw error(at, "expected a value or a path, found \"" + c + "\"");
      }
      switch (word) {
        case "true":
          return new Literal(Boolean.TRUE);
        case "false":
          return new Literal(Boolean.FALSE);
        case "nil":
          return new Literal(null);
        default:
          break;
      }
      if (CONSTANTS.containsKey(word)) {
        return new Literal(CONSTANTS.get(word));
      }
      return path(word, at);
    }

    private Node path(String word, int at) {
      switch (word) {
        case "name":
          spanName = true;
          return new Field(word, Trace.Entry::name);
        case "kind":
          return new Field(word, e -> (long) e.kind());
        case "status.code":
          return new Field(word, e -> (long) e.statusCode());
        case "trace_state":
          return new Field(word, Trace.Entry::traceState);
        case "flags":
          return new Field(word, e -> (long) e.flags());
        case "start_time_unix_nano":
          return new Field(word, Trace.Entry::startNanos);
        case "end_time_unix_nano":
          return new Field(word, Trace.Entry::endNanos);
        case "instrumentation_scope.name":
          return new Field(word, e -> e.scope().getName());
        case "attributes":
          String key = index();
          attributeKeys.add(key);
          return new Field(word, e -> find(e.attributes(), key));
        case "resource.attributes":
          String rkey = index();
          return new Field(word, e -> find(e.resource().getAttributesList(), rkey));
        default:
          throw error(at, "unknown path \"" + word + "\" (known: name, kind, status.code, trace_state, flags, "
              + "start_time_unix_nano, end_time_unix_nano, instrumentation_scope.name, attributes[\"key\"], "
              + "resource.attributes[\"key\"])");
      }
    }

    private String index() {
      expect("[");
      int at = skipSpace();
      if (peek() != '"') {
        throw error(at, "expected a quoted attribute key");
      }
      String key = string();
      expect("]");
      return key;
    }

    private String string() {
      int start = pos;
      pos++; // opening quote
      StringBuilder sb = new StringBuilder();
      while (pos < text.length()) {
        char c = text.charAt(pos++);
        if (c == '"') {
          return sb.toString();
        }
        if (c == '\\' && pos < text.length()) {
          c = text.charAt(pos++);
        }
        sb.append(c);
      }
      throw error(start, "unterminated string");
    }

    private Object number() {
      int start = pos;
      if (peek() == '-') {
        pos++;
      }
      while (pos < text.length() && (Character.isDigit(peek()) || peek() == '.' || peek() == 'e' || peek() == 'E'
          || (peek() == '-' || peek() == '+') && (text.charAt(pos - 1) == 'e' || text.charAt(pos - 1) == 'E'))) {
        pos++;
      }
      String n = text.substring(start, pos);
      try {
        return n.matches("-?\\d+") ? (Object) Long.parseLong(n) : (Object) Double.parseDouble(n);
      } catch (NumberFormatException e) {
        throw error(start, "not a number: " + n);
      }
    }

    private String word() {
      int start = pos;
      while (pos < text.length() && (Character.isLetterOrDigit(peek()) || peek() == '_' || peek() == '.')) {
        pos++;
      }
      return text.substring(start, pos);
    }

    private boolean keyword(String k) {
      skipSpace();
      int end = pos + k.length();
      if (text.startsWith(k, pos) && (end >= text.length() || !(Character.isLetterOrDigit(text.charAt(end))
          || text.charAt(end) == '_' || text.charAt(end) == '.'))) {
        pos = end;
        return true;
      }
      return false;
    }

    private boolean symbol(String s) {
      skipSpace();
      if (text.startsWith(s, pos)) {
        pos += s.length();
        return true;
      }
      return false;
    }

    private void expect(String s) {
      int at = skipSpace();
      if (!symbol(s)) {
        throw error(at, "expected \"" + s + "\"" + (pos < text.length() ? ", found \"" + text.charAt(pos) + "\""
            : ", found the end"));
      }
    }

    void expectEnd() {
      int at = skipSpace();
      if (pos < text.length()) {
        throw error(at, "unexpected '" + text.substring(pos, Math.min(text.length(), pos + 12)) + "' (join "
            + "conditions with and / or)");
      }
    }

    private int skipSpace() {
      while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
        pos++;
      }
      return pos;
    }

    private char peek() {
      return pos < text.length() ? text.charAt(pos) : '\0';
    }

    private char peekAt(int ahead) {
      return pos + ahead < text.length() ? text.charAt(pos + ahead) : '\0';
    }

    private SyntaxException error(int at, String message) {
      return new SyntaxException("column " + (at + 1) + ": " + message);
    }
  }
}
