package dev.telemetry.gateway.routing;

import com.google.re2j.Pattern;
import java.util.List;
import java.util.Set;

/**
 * A test on one value. Values are compared as text: attribute values of any scalar type by their canonical text
 * ({@code 200}, {@code true}, {@code 1.5}), so a rule reads the same whatever type an SDK chose. Severity is the
 * exception: it is compared as a number range ({@link SeverityIn}).
 */
public sealed interface Operator {

  /** Whether a present value passes; {@code value} is null when absent (only {@link Exists} can pass then). */
  boolean test(String value);

  /** Whether every value passing {@code this} also passes {@code other} (used to find shadowed rules). */
  boolean implies(Operator other);

  record Equals(String value) implements Operator {
    @Override
    public boolean test(String v) {
      return value.equals(v);
    }

    @Override
    public boolean implies(Operator o) {
      return o.test(value) || o.equals(this);
    }
  }

  record In(Set<String> values) implements Operator {
    public In {
      values = Set.copyOf(values);
    }

    @Override
    public boolean test(String v) {
      return v != null && values.contains(v);
    }

    @Override
    public boolean implies(Operator o) {
      if (o instanceof Regex) {
        return o.equals(this);
      }
      return values.stream().allMatch(o::test);
    }
  }

  record Prefix(String prefix) implements Operator {
    @Override
    public boolean test(String v) {
      return v != null && v.startsWith(prefix);
    }

    @Override
    public boolean implies(Operator o) {
      return o instanceof Prefix p && prefix.startsWith(p.prefix) || o instanceof Exists e && e.present();
    }
  }

  /** RE2 syntax, unanchored (use {@code ^…$} for a whole-value match), linear time whatever the input. */
  record Regex(String source, Pattern pattern) implements Operator {
    @Override
    public boolean test(String v) {
      return v != null && pattern.matcher(v).find();
    }

    @Override
    public boolean implies(Operator o) {
      return o.equals(this) || o instanceof Exists e && e.present();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Regex r && r.source.equals(source);
    }

    @Override
    public int hashCode() {
      return source.hashCode();
    }
  }

  /** {@code exists: true} passes any present value; {@code exists: false} passes only absence. */
  record Exists(boolean present) implements Operator {
    @Override
    public boolean test(String v) {
      return (v != null) == present;
    }

    @Override
    public boolean implies(Operator o) {
      return o.equals(this);
    }
  }

  /** Severity numbers in any of the closed ranges {@code [lo[i], hi[i]]}. */
  record SeverityIn(List<int[]> ranges) implements Operator {
    public SeverityIn {
      ranges = List.copyOf(ranges);
    }

    @Override
    public boolean test(String v) {
      throw new UnsupportedOperationException("severity is numeric");
    }

    public boolean test(int severity) {
      for (int[] r : ranges) {
        if (severity >= r[0] && severity <= r[1]) {
          return true;
        }
      }
      return false;
    }

    @Override
    public boolean implies(Operator o) {
      if (o instanceof Exists e) {
        return e.present() && ranges.stream().allMatch(r -> r[0] >= 1);
      }
      if (!(o instanceof SeverityIn other)) {
        return false;
      }
      // every range of ours inside some range of the other's
      return ranges.stream().allMatch(r -> other.ranges.stream().anyMatch(q -> q[0] <= r[0] && r[1] <= q[1]));
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof SeverityIn s && implies(s) && s.implies(this);
    }

    @Override
    public int hashCode() {
      return ranges.size();
    }
  }
}
