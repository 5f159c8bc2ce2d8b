package io.jobscheduler.observe;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: every
 * line is a {@code # HELP}, a {@code # TYPE} or a sample; names and label names are valid; label
 * values are quoted with only the three escapes; each family has one TYPE and one HELP before
 * its samples; each sample belongs to the family before it (a counter's name ends in
 * {@code _total}, a histogram's samples are {@code _bucket} with {@code le}, {@code _sum} and
 * {@code _count}); no series appears twice; a histogram's buckets rise in {@code le}, are
 * cumulative and end at {@code +Inf} equal to {@code _count}. Anything else throws, naming the line.
 */
public final class PrometheusText {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") (.*)");
    private static final Pattern TYPE = Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
    private static final Pattern VALUE = Pattern.compile("[-+]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][-+]?\\d+)?|NaN|[-+]Inf");

    /** One sample: its full name (with a histogram's suffix), labels and value. */
    public record Sample(String name, Map<String, String> labels, double value) {
    }

    /** One metric family: its type, help and samples. */
    public record Family(String name, String type, String help, List<Sample> samples) {
        /** The samples named {@code name} whose labels include {@code labels}. */
        public List<Sample> find(String name, Map<String, String> labels) {
            return samples.stream().filter(s -> s.name().equals(name)
                    && s.labels().entrySet().containsAll(labels.entrySet())).toList();
        }
    }

    private final Map<String, Family> families;

    private PrometheusText(Map<String, Family> families) {
        this.families = families;
    }

    public Map<String, Family> families() {
        return families;
    }

    public Optional<Family> family(String name) {
        return Optional.ofNullable(families.get(name));
    }

    /**
     * The value of the one sample {@code name} with (at least) {@code labels}; 0 when there is
     * none (a series not created yet); throws when several match.
     */
    public double value(String family, String name, Map<String, String> labels) {
        List<Sample> found = family(family).map(f -> f.find(name, labels)).orElse(List.of());
        if (found.size() > 1) {
            throw new IllegalStateException(found.size() + " samples of " + name + " match " + labels + ": " + found);
        }
        return found.isEmpty() ? 0 : found.getFirst().value();
    }

    public static PrometheusText parse(String text) {
        if (!text.isEmpty() && !text.endsWith("\n")) {
            throw new IllegalArgumentException("the text does not end with a newline");
        }
        Map<String, String> helps = new LinkedHashMap<>();
        Map<String, String> types = new LinkedHashMap<>();
        Map<String, List<Sample>> samples = new LinkedHashMap<>();
        Set<String> series = new HashSet<>();
        String current = null;
        int number = 0;
        for (String line : text.split("\n", -1)) {
            number++;
            if (line.isEmpty()) {
                continue;
            }
            String where = "line " + number + " '" + line + "': ";
            Matcher m;
            if ((m = HELP.matcher(line)).matches()) {
                if (helps.put(m.group(1), m.group(2)) != null) {
                    throw new IllegalArgumentException(where + "a second HELP for " + m.group(1));
                }
                if (m.group(2).isBlank()) {
                    throw new IllegalArgumentException(where + "an empty HELP");
                }
                continue;
            }
            if ((m = TYPE.matcher(line)).matches()) {
                String name = m.group(1);
                if (types.put(name, m.group(2)) != null) {
                    throw new IllegalArgumentException(where + "a second TYPE for " + name);
                }
                if (samples.containsKey(name)) {
                    throw new IllegalArgumentException(where + "TYPE after samples of " + name);
                }
                current = name;
                samples.put(name, new ArrayList<>());
                continue;
            }
            if (line.startsWith("#")) {
                throw new IllegalArgumentException(where + "a comment that is neither HELP nor TYPE");
            }
            Sample sample = sample(line, where);
            if (current == null || !belongs(sample.name(), current, types.get(current))) {
                throw new IllegalArgumentException(where + "a sample outside its family (last TYPE: " + current + ")");
            }
            if (!series.add(sample.name() + sample.labels())) {
                throw new IllegalArgumentException(where + "a series given twice");
            }
            samples.get(current).add(sample);
        }
        Map<String, Family> families = new LinkedHashMap<>();
        for (var entry : types.entrySet()) {
            String name = entry.getKey();
            String help = helps.get(name);
            if (help == null) {
                throw new IllegalArgumentException("family " + name + " has no HELP");
            }
            if (entry.getValue().equals("counter") && !name.endsWith("_total")) {
                throw new IllegalArgumentException("counter " + name + " does not end in _total");
            }
            Family family = new Family(name, entry.getValue(), help, List.copyOf(samples.get(name)));
            if (family.type().equals("histogram")) {
                checkHistogram(family);
            }
            families.put(name, family);
        }
        for (String name : helps.keySet()) {
            if (!types.containsKey(name)) {
                throw new IllegalArgumentException("HELP for " + name + " without a TYPE");
            }
        }
        return new PrometheusText(families);
    }

    private static boolean belongs(String sample, String family, String type) {
        return switch (type) {
            case "histogram" -> sample.equals(family + "_bucket") || sample.equals(family + "_sum")
                    || sample.equals(family + "_count");
            case "summary" -> sample.equals(family) || sample.equals(family + "_sum") || sample.equals(family + "_count");
            default -> sample.equals(family);
        };
    }

    private static Sample sample(String line, String where) {
        int i = 0;
        while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
            i++;
        }
        String name = line.substring(0, i);
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(where + "'" + name + "' is no metric name");
        }
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (line.charAt(i) != '}') {
                int equals = line.indexOf('=', i);
                if (equals < 0) {
                    throw new IllegalArgumentException(where + "a label without '='");
                }
                String label = line.substring(i, equals);
                if (!LABEL_NAME.matcher(label).matches() || label.startsWith("__")) {
                    throw new IllegalArgumentException(where + "'" + label + "' is no label name");
                }
                if (equals + 1 >= line.length() || line.charAt(equals + 1) != '"') {
                    throw new IllegalArgumentException(where + "label " + label + "'s value is not quoted");
                }
                StringBuilder value = new StringBuilder();
                int j = equals + 2;
                for (; ; j++) {
                    if (j >= line.length()) {
                        throw new IllegalArgumentException(where + "label " + label + "'s value is not closed");
                    }
                    char c = line.charAt(j);
                    if (c == '"') {
                        break;
                    }
                    if (c == '\\') {
                        char next = line.charAt(++j);
                        value.append(switch (next) {
                            case '\\' -> '\\';
                            case '"' -> '"';
                            case 'n' -> '\n';
                            default -> throw new IllegalArgumentException(where + "escape \\" + next + " in a label value");
                        });
                    } else {
                        value.append(c);
                    }
                }
                if (labels.put(label, value.toString()) != null) {
                    throw new IllegalArgumentException(where + "label " + label + " given twice");
                }
                i = j + 1;
                if (line.charAt(i) == ',') {
                    i++;
                } else if (line.charAt(i) != '}') {
                    throw new IllegalArgumentException(where + "labels not separated by ','");
                }
            }
            i++;
        }
        if (i >= line.length() || line.charAt(i) != ' ') {
            throw new IllegalArgumentException(where + "no space before the value");
        }
        String[] rest = line.substring(i + 1).split(" ", -1);
        if (rest.length > 2 || !VALUE.matcher(rest[0]).matches()
                || (rest.length == 2 && !rest[1].matches("-?\\d+"))) {
            throw new IllegalArgumentException(where + "not a value and an optional timestamp");
        }
        double value = switch (rest[0]) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(rest[0]);
        };
        return new Sample(name, Map.copyOf(labels), value);
    }

    private static void checkHistogram(Family family) {
        Map<Map<String, String>, List<Sample>> buckets = new LinkedHashMap<>();
        Map<Map<String, String>, Double> counts = new LinkedHashMap<>();
        for (Sample sample : family.samples()) {
            if (sample.name().endsWith("_bucket")) {
                if (!sample.labels().containsKey("le")) {
                    throw new IllegalArgumentException(family.name() + ": a bucket without le: " + sample);
                }
                Map<String, String> series = new LinkedHashMap<>(sample.labels());
                series.remove("le");
                buckets.computeIfAbsent(Map.copyOf(series), k -> new ArrayList<>()).add(sample);
            } else if (sample.name().endsWith("_count")) {
                counts.put(sample.labels(), sample.value());
            }
        }
        for (var entry : buckets.entrySet()) {
            double lastBound = Double.NEGATIVE_INFINITY;
            double lastCount = 0;
            for (Sample bucket : entry.getValue()) {
                String le = bucket.labels().get("le");
                double bound = le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
                if (bound <= lastBound || bucket.value() < lastCount) {
                    throw new IllegalArgumentException(family.name() + entry.getKey()
                            + ": buckets not rising or not cumulative at le=" + le);
                }
                lastBound = bound;
                lastCount = bucket.value();
            }
            if (lastBound != Double.POSITIVE_INFINITY) {
                throw new IllegalArgumentException(family.name() + entry.getKey() + ": no +Inf bucket");
            }
            Double count = counts.get(entry.getKey());
            if (count == null || count != lastCount) {
                throw new IllegalArgumentException(family.name() + entry.getKey() + ": _count " + count
                        + " is not the +Inf bucket's " + lastCount);
            }
        }
    }
}
