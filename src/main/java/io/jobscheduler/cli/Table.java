package io.jobscheduler.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * An aligned text table for people: a header row and rows, each column as wide as its widest
 * cell, columns three spaces apart, no trailing spaces. A missing value is shown as {@code -}.
 */
final class Table {
    private static final String GAP = "   ";
    static final String NONE = "-";

    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();

    Table(String... header) {
        this.header = List.of(header);
    }

    /** Adds a row of as many cells as the header has; a null or empty cell prints as {@link #NONE}. */
    Table row(String... cells) {
        if (cells.length != header.size()) {
            throw new IllegalArgumentException(cells.length + " cells for " + header.size() + " columns");
        }
        List<String> row = new ArrayList<>(cells.length);
        for (String cell : cells) {
            row.add(cell == null || cell.isEmpty() ? NONE : cell);
        }
        rows.add(row);
        return this;
    }

    /** The table, each line ending with a newline. */
    String render() {
        int[] widths = new int[header.size()];
        List<List<String>> all = new ArrayList<>();
        all.add(header);
        all.addAll(rows);
        for (List<String> row : all) {
            for (int i = 0; i < widths.length; i++) {
                widths[i] = Math.max(widths[i], row.get(i).codePointCount(0, row.get(i).length()));
            }
        }
        StringBuilder text = new StringBuilder();
        for (List<String> row : all) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < widths.length; i++) {
                String cell = row.get(i);
                line.append(cell);
                if (i < widths.length - 1) {
                    line.repeat(' ', widths[i] - cell.codePointCount(0, cell.length())).append(GAP);
                }
            }
            text.append(line.toString().stripTrailing()).append('\n');
        }
        return text.toString();
    }
}
