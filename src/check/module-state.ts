// Finds module-level state that code on the worker lane writes. Each worker thread loads the
// app's modules anew, so a module-level array, counter, Map or `":memory:"` database is one per
// worker: a request sees what earlier requests on the same worker wrote, never what the others
// did. FastAPI shares such state between its threads (with races); a port that relied on it
// breaks quietly here, so the check says so, naming the variable and the routes.
import type TS from "typescript";
import type { TypeScript } from "./typescript.js";

/** The comment on (or above) a module-level declaration that says each worker's own copy is intended. */
export const perWorkerMarker = "loopwise-per-worker";

export interface StateWrite {
  /** The module-level declaration written. */
  declaration: TS.VariableDeclaration;
  /** Where it is written (or, for an in-memory database, used). */
  at: TS.Node;
  kind: "written" | "in-memory-database";
}

/** Methods that change the object they are called on (arrays, Maps, Sets). */
const mutators = new Set(["push", "pop", "shift", "unshift", "splice", "sort", "reverse", "fill", "copyWithin", "set", "delete", "clear", "add"]);
const marker = new RegExp(`\\/[/*].*${perWorkerMarker}`);

export class ModuleStateFinder {
  private readonly checker: TS.TypeChecker;
  private readonly found = new Map<TS.Node, StateWrite[]>();
  private readonly visiting = new Set<TS.Node>();

  constructor(
    private readonly ts: TypeScript,
    program: TS.Program,
    private readonly isAppFile: (fileName: string) => boolean,
    /** The app's own function a call runs, if any (followed into its body). */
    private readonly calledFunction: (call: TS.CallExpression | TS.NewExpression) => TS.FunctionLikeDeclaration | undefined,
  ) {
    this.checker = program.getTypeChecker();
  }

  /** The writes to module-level state that `fn` makes, itself or through the app's functions it calls. */
  writes(fn: TS.FunctionLikeDeclaration): StateWrite[] {
    const known = this.found.get(fn);
    if (known) return known;
    if (this.visiting.has(fn)) return [];
    this.visiting.add(fn);
    const writes: StateWrite[] = [];
    const visit = (node: TS.Node) => {
      const write = this.writeAt(node);
      if (write) writes.push(write);
      if (this.ts.isCallExpression(node) || this.ts.isNewExpression(node)) {
        const called = this.calledFunction(node);
        if (called) writes.push(...this.writes(called));
      }
      node.forEachChild(visit);
    };
    if (fn.body) visit(fn.body);
    this.visiting.delete(fn);
    this.found.set(fn, writes);
    return writes;
  }

  private writeAt(node: TS.Node): StateWrite | undefined {
    const ts = this.ts;
    let target: TS.Expression | undefined;
    if (ts.isBinaryExpression(node) && isAssignment(ts, node.operatorToken.kind)) target = node.left;
    else if ((ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) && isIncrement(ts, node.operator)) target = node.operand;
    else if (ts.isDeleteExpression(node)) target = node.expression;
    else if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const method = node.expression.name.text;
      const declaration = this.moduleLevel(node.expression.expression);
      if (declaration && isInMemoryDatabase(ts, declaration)) return { declaration, at: node, kind: "in-memory-database" };
      if (mutators.has(method)) target = node.expression.expression;
    }
    if (!target) return undefined;
    const declaration = this.moduleLevel(target);
    return declaration && { declaration, at: node, kind: "written" };
  }

  /** The module-level variable of the app an expression (`x`, `x.a`, `x[i].b`) is rooted in, unless marked as per worker on purpose. */
  private moduleLevel(expression: TS.Expression): TS.VariableDeclaration | undefined {
    const ts = this.ts;
    let node = expression;
    for (;;) {
      if (
        ts.isPropertyAccessExpression(node) ||
        ts.isElementAccessExpression(node) ||
        ts.isParenthesizedExpression(node) ||
        ts.isNonNullExpression(node)
      )
        node = node.expression;
      else break;
    }
    if (!ts.isIdentifier(node)) return undefined;
    let symbol = this.checker.getSymbolAtLocation(node);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = this.checker.getAliasedSymbol(symbol);
    const declaration = symbol?.valueDeclaration;
    if (!declaration || !ts.isVariableDeclaration(declaration) || !ts.isIdentifier(declaration.name)) return undefined;
    const statement = declaration.parent.parent;
    if (!ts.isVariableStatement(statement) || !ts.isSourceFile(statement.parent)) return undefined;
    const file = statement.parent;
    if (!this.isAppFile(file.fileName) || isMarked(file, statement.getStart(file))) return undefined;
    return declaration;
  }
}

/** `new Database(":memory:")` (better-sqlite3, node:sqlite, any driver that takes SQLite's name for it). */
function isInMemoryDatabase(ts: TypeScript, declaration: TS.VariableDeclaration): boolean {
  const init = declaration.initializer;
  if (!init || !(ts.isNewExpression(init) || ts.isCallExpression(init))) return false;
  return (init.arguments ?? []).some((argument) => ts.isStringLiteralLike(argument) && argument.text === ":memory:");
}

function isAssignment(ts: TypeScript, kind: TS.SyntaxKind): boolean {
  return kind >= ts.SyntaxKind.FirstAssignment && kind <= ts.SyntaxKind.LastAssignment;
}

function isIncrement(ts: TypeScript, operator: TS.SyntaxKind): boolean {
  return operator === ts.SyntaxKind.PlusPlusToken || operator === ts.SyntaxKind.MinusMinusToken;
}

function isMarked(file: TS.SourceFile, pos: number): boolean {
  const line = file.getLineAndCharacterOfPosition(pos).line;
  const lines = file.text.split("\n");
  return [lines[line], lines[line - 1]].some((text) => text !== undefined && marker.test(text));
}
