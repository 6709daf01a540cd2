package dev.telemetry.gateway.routing;

import java.util.List;

/** A rule's condition: a tree of {@code all}, {@code any}, {@code not} over single-value tests. */
public sealed interface Match {

  /** Matches everything: an empty {@code match} object. */
  All ALWAYS = new All(List.of());

  /** The outermost level this condition looks at. */
  Subject.Level level();

  record All(List<Match> of) implements Match {
    public All {
      of = List.copyOf(of);
    }

    @Override
    public Subject.Level level() {
      return deepest(of);
    }
  }

  record Any(List<Match> of) implements Match {
    public Any {
      of = List.copyOf(of);
    }

    @Override
    public Subject.Level level() {
      return deepest(of);
    }
  }

  record Not(Match of) implements Match {
    @Override
    public Subject.Level level() {
      return of.level();
    }
  }

  /** One subject (with its attribute key, when keyed) and one operator. */
  record Test(Subject subject, String key, Operator op) implements Match {
    @Override
    public Subject.Level level() {
      return subject.level();
    }
  }

  private static Subject.Level deepest(List<Match> ms) {
    Subject.Level l = Subject.Level.REQUEST;
    for (Match m : ms) {
      if (m.level().compareTo(l) > 0) {
        l = m.level();
      }
    }
    return l;
  }

  /** The conjuncts of a condition: nested {@code all}s flattened, anything else as one term. */
  static List<Match> conjuncts(Match m) {
    if (m instanceof All a) {
      return a.of.stream().flatMap(x -> conjuncts(x).stream()).toList();
    }
    return List.of(m);
  }
}
