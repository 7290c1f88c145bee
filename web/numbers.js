// Number printing and CSV handling shared by the page and its tests: the command
// line prints numbers with C's "%.8g", and so does the page, so the two can be read
// side by side.

// C's printf("%.8g"): 8 significant digits, trailing zeros dropped, exponent form
// when the decimal exponent is below -4 or at least 8, exponents with two digits.
export function printed(value, digits = 8) {
  if (value === null || value === undefined || Number.isNaN(value)) {
    return "nan";
  }
  if (!Number.isFinite(value)) {
    return value > 0 ? "inf" : "-inf";
  }
  if (value === 0) {
    return Object.is(value, -0) ? "-0" : "0";
  }
  const scientific = value.toExponential(digits - 1);
  const [mantissa, exponentText] = scientific.split("e");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= digits) {
    const sign = exponent < 0 ? "-" : "+";
    const magnitude = String(Math.abs(exponent)).padStart(2, "0");
    return `${dropZeros(mantissa)}e${sign}${magnitude}`;
  }
  return dropZeros(value.toFixed(digits - 1 - exponent));
}

function dropZeros(text) {
  if (!text.includes(".")) {
    return text;
  }
  return text.replace(/0+$/, "").replace(/\.$/, "");
}

// A short form for headlines: three significant digits, no exponent for scores.
export function short(value) {
  return printed(value, 3);
}

// The most jets the page's batch mode takes from one file: the runtime answers a
// few jets per second in a browser, so larger files belong to the command line
// (`surrogate query`), which has no limit and runs natively.
export const MAX_BATCH_JETS = 1000;

export class CsvError extends Error {}

// Jets from CSV text: a header of condition names, then one jet per line. Plain
// comma-separated numbers only (no quoting); blank lines and lines starting with
// '#' are skipped, as the command line does. Every problem is a CsvError that says
// where it is and what was expected.
export function parseJets(text, conditionNames, maxJets = MAX_BATCH_JETS) {
  const lines = text.split(/\r?\n/);
  let header = null;
  const jets = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index].trim();
    if (line === "" || line.startsWith("#")) {
      continue;
    }
    const cells = line.split(",").map((cell) => cell.trim());
    const lineNumber = index + 1;
    if (header === null) {
      header = cells;
      checkHeader(header, conditionNames);
      continue;
    }
    if (jets.length === maxJets) {
      throw new CsvError(
        `the file holds more than ${maxJets} jets; the page takes at most ${maxJets} ` +
          "at a time (split the file, or use the command line: surrogate query)",
      );
    }
    if (cells.length !== header.length) {
      throw new CsvError(
        `line ${lineNumber}: ${cells.length} values for ${header.length} columns`,
      );
    }
    const jet = {};
    cells.forEach((cell, c) => {
      const value = cell === "" ? NaN : Number(cell);
      if (!Number.isFinite(value)) {
        const shown = cell === "" ? "empty" : `"${cell}"`;
        throw new CsvError(
          `line ${lineNumber}, column ${header[c]}: ${shown} is not a finite number`,
        );
      }
      jet[header[c]] = value;
    });
    jets.push(jet);
  }
  if (header === null) {
    throw new CsvError("the file is empty; expected a header of condition names");
  }
  if (jets.length === 0) {
    throw new CsvError("the file has a header but no jets");
  }
  return jets;
}

function checkHeader(header, conditionNames) {
  const expected = conditionNames.join(", ");
  const seen = new Set();
  for (const name of header) {
    if (seen.has(name)) {
      throw new CsvError(`column ${name} appears twice in the header`);
    }
    seen.add(name);
  }
  const missing = conditionNames.filter((name) => !seen.has(name));
  if (missing.length > 0) {
    const word = missing.length === 1 ? "column" : "columns";
    throw new CsvError(
      `missing ${word} ${missing.join(", ")} in the header; this surrogate needs ${expected}`,
    );
  }
  const unknown = header.filter((name) => !conditionNames.includes(name));
  if (unknown.length > 0) {
    const word = unknown.length === 1 ? "column" : "columns";
    throw new CsvError(
      `unknown ${word} ${unknown.join(", ")} in the header; this surrogate takes ${expected}`,
    );
  }
}

// The columns `surrogate query --levels L --cuts C` writes, in its order.
export function resultColumns(conditionNames, levels, cuts) {
  const columns = [...conditionNames];
  columns.push("mean_score", "aleatoric_std", "epistemic_std", "total_std", "same_noise_spread");
  for (const cut of cuts) {
    columns.push(`tag_probability_${printed(cut)}`, `tag_probability_std_${printed(cut)}`);
  }
  for (const level of levels) {
    const name = printed(level);
    columns.push(`quantile_${name}`, `quantile_lower_${name}`, `quantile_upper_${name}`);
  }
  columns.push("support_distance", "support_distance_quantile", "out_of_support");
  return columns;
}

// One result row in the order of resultColumns.
export function resultRecord(conditionNames, jet, summary) {
  const record = conditionNames.map((name) => jet[name]);
  record.push(
    summary.mean_score,
    summary.aleatoric_std,
    summary.epistemic_std,
    summary.total_std,
    summary.same_noise_spread,
  );
  summary.cuts.forEach((_, k) => {
    record.push(summary.tag_probability[k], summary.tag_probability_std[k]);
  });
  summary.quantile_levels.forEach((_, l) => {
    record.push(summary.quantiles[l], summary.quantile_lower[l], summary.quantile_upper[l]);
  });
  record.push(
    summary.support.distance,
    summary.support.distance_quantile,
    summary.support.out_of_support ? 1 : 0,
  );
  return record;
}

export function toCsv(columns, records) {
  const lines = [columns.join(",")];
  for (const record of records) {
    lines.push(record.map((value) => printed(value)).join(","));
  }
  return lines.join("\n") + "\n";
}
