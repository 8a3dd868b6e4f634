//! The layering check: imports run one way.
//!
//! Each module's layer is written once, in the layout table of `src/lib.rs`. This test parses
//! every file under `src/` with syn and collects every module it reaches: `use` trees, inline
//! paths (`crate::parse::cap(..)` in an expression or a type), paths inside macro calls
//! (`info!(x = %crate::a::b(..))`), `super::` and `self::`, and a parent's relative paths to its
//! own submodules. It fails when a module reaches a module of a higher layer, when modules
//! reach each other in a circle (in any layer), and when a module has no layer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// A module path below the crate root, e.g. `["posture", "judge"]`.
type ModulePath = Vec<String>;

fn src_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every library module file (not `lib.rs`, not the binary's `main.rs`) and its module path.
fn module_files(dir: &Path, prefix: &[String], found: &mut Vec<(ModulePath, PathBuf)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            let mut inner = prefix.to_vec();
            inner.push(name);
            module_files(&path, &inner, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let module = match name.as_str() {
                "lib" | "main" if prefix.is_empty() => continue,
                "mod" => prefix.to_vec(),
                _ => [prefix, &[name]].concat(),
            };
            found.push((module, path));
        }
    }
}

/// The layout table of `src/lib.rs`: each listed module and its layer number.
fn layer_table(lib: &str) -> BTreeMap<ModulePath, (u32, String)> {
    let mut table = BTreeMap::new();
    let mut in_layers = false;
    for line in lib.lines() {
        let Some(doc) = line.strip_prefix("//!") else {
            continue;
        };
        let doc = doc.trim();
        if doc.starts_with("# ") {
            in_layers = doc == "# Layers";
            continue;
        }
        if !in_layers || !doc.starts_with('|') || doc.starts_with("|---") {
            continue;
        }
        let cells: Vec<&str> = doc.trim_matches('|').split('|').map(str::trim).collect();
        let [layer, _, modules] = cells[..] else {
            panic!("a layer row has three cells: {doc}");
        };
        let Some((number, name)) = layer.split_once(' ') else {
            continue; // the header row
        };
        let Ok(number) = number.parse::<u32>() else {
            continue;
        };
        for module in modules.split(',') {
            let module = module.trim().trim_matches(['[', ']', '`']);
            let path: ModulePath = module.split("::").map(str::to_string).collect();
            let previous = table.insert(path, (number, name.to_string()));
            assert!(previous.is_none(), "{module} is listed twice in src/lib.rs");
        }
    }
    assert!(table.len() > 10, "src/lib.rs has no layer table");
    table
}

/// A module's layer: its own row, else the nearest listed parent's.
fn layer_of(
    module: &[String],
    table: &BTreeMap<ModulePath, (u32, String)>,
) -> Option<(u32, String)> {
    (1..=module.len())
        .rev()
        .find_map(|len| table.get(&module[..len]).cloned())
}

/// What one file reaches: (the path as written, the module it resolves to).
struct Reach {
    /// The file's own module.
    file_module: ModulePath,
    /// Inline `mod name { .. }` blocks entered so far, inside the file.
    nested: Vec<String>,
    /// Submodules the file declares (`mod name;`), reachable by a bare relative path.
    children: BTreeSet<String>,
    known: BTreeSet<ModulePath>,
    found: Vec<(String, ModulePath)>,
}

impl Reach {
    fn current(&self) -> ModulePath {
        [self.file_module.clone(), self.nested.clone()].concat()
    }

    /// Resolves a path written in this file to the longest known module it starts with.
    fn resolve(&mut self, segments: &[String]) {
        let Some(first) = segments.first() else {
            return;
        };
        let mut absolute: ModulePath = match first.as_str() {
            "crate" => segments[1..].to_vec(),
            "self" => [self.current(), segments[1..].to_vec()].concat(),
            "super" => {
                let mut base = self.current();
                let mut rest = segments;
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop();
                    rest = &rest[1..];
                }
                [base, rest.to_vec()].concat()
            }
            child if self.nested.is_empty() && self.children.contains(child) => {
                [self.file_module.clone(), segments.to_vec()].concat()
            }
            _ => return,
        };
        while !absolute.is_empty() && !self.known.contains(&absolute) {
            absolute.pop();
        }
        if !absolute.is_empty() {
            self.found.push((segments.join("::"), absolute));
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.use_tree(prefix, &path.tree);
                prefix.pop();
            }
            syn::UseTree::Name(name) => {
                let full = [prefix.clone(), vec![name.ident.to_string()]].concat();
                self.resolve(&full);
            }
            syn::UseTree::Rename(rename) => {
                let full = [prefix.clone(), vec![rename.ident.to_string()]].concat();
                self.resolve(&full);
            }
            syn::UseTree::Glob(_) => {
                let full = prefix.clone();
                self.resolve(&full);
            }
            syn::UseTree::Group(group) => {
                for item in &group.items {
                    self.use_tree(prefix, item);
                }
            }
        }
    }

    /// `crate::a::b` and `super::a` sequences in a macro's tokens, which syn leaves unparsed.
    fn tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut index = 0;
        while index < trees.len() {
            if let TokenTree::Group(group) = &trees[index] {
                self.tokens(group.stream());
                index += 1;
                continue;
            }
            let starts_path = matches!(&trees[index], TokenTree::Ident(ident)
                if ident == "crate" || ident == "super" || ident == "self");
            if !starts_path {
                index += 1;
                continue;
            }
            let mut segments = vec![trees[index].to_string()];
            let mut next = index + 1;
            // `::` is two `:` puncts, then an identifier.
            while next + 2 < trees.len()
                && matches!(&trees[next], TokenTree::Punct(p) if p.as_char() == ':')
                && matches!(&trees[next + 1], TokenTree::Punct(p) if p.as_char() == ':')
            {
                match &trees[next + 2] {
                    TokenTree::Ident(ident) => segments.push(ident.to_string()),
                    _ => break,
                }
                next += 3;
            }
            if segments.len() > 1 {
                self.resolve(&segments);
            }
            index = next.max(index + 1);
        }
    }
}

impl<'ast> Visit<'ast> for Reach {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.len() > 1 {
            self.resolve(&segments);
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
        syn::visit::visit_macro(self, mac);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if item.content.is_some() {
            self.nested.push(item.ident.to_string());
            syn::visit::visit_item_mod(self, item);
            self.nested.pop();
        }
    }
}

/// For each module, every (path as written, module it reaches).
type Graph = BTreeMap<ModulePath, Vec<(String, ModulePath)>>;

/// Every module file, and every module each module reaches.
fn reaches() -> (Vec<(ModulePath, PathBuf)>, Graph) {
    let mut files = Vec::new();
    module_files(&src_dir(), &[], &mut files);
    let known: BTreeSet<ModulePath> = files.iter().map(|(module, _)| module.clone()).collect();
    let mut graph = BTreeMap::new();
    for (module, path) in &files {
        let text = std::fs::read_to_string(path).expect("a source file");
        let file = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
        let children = file
            .items
            .iter()
            .filter_map(|item| match item {
                syn::Item::Mod(m) if m.content.is_none() => Some(m.ident.to_string()),
                _ => None,
            })
            .collect();
        let mut reach = Reach {
            file_module: module.clone(),
            nested: Vec::new(),
            children,
            known: known.clone(),
            found: Vec::new(),
        };
        reach.visit_file(&file);
        reach.found.retain(|(_, target)| target != module);
        graph.insert(module.clone(), reach.found);
    }
    (files, graph)
}

fn name(module: &[String]) -> String {
    if module.is_empty() {
        "crate".to_string()
    } else {
        module.join("::")
    }
}

#[test]
fn every_module_has_a_layer_and_reaches_only_its_own_or_lower_layers() {
    let lib = std::fs::read_to_string(src_dir().join("lib.rs")).expect("src/lib.rs");
    let table = layer_table(&lib);
    let (files, graph) = reaches();
    let mut problems = Vec::new();
    for listed in table.keys() {
        if !files.iter().any(|(module, _)| module.starts_with(listed)) {
            problems.push(format!(
                "src/lib.rs lists `{}`, which is not a module",
                name(listed)
            ));
        }
    }
    for (module, path) in &files {
        let Some((layer, layer_name)) = layer_of(module, &table) else {
            problems.push(format!(
                "{} (`{}`) has no layer: add it to the table in src/lib.rs",
                path.display(),
                name(module)
            ));
            continue;
        };
        for (written, target) in &graph[module] {
            let Some((target_layer, target_name)) = layer_of(target, &table) else {
                continue; // reported as a module without a layer
            };
            if target_layer > layer {
                problems.push(format!(
                    "`{}` (layer {layer} {layer_name}) reaches `{written}`, in `{}` (layer {target_layer} {target_name}), above it",
                    name(module),
                    name(target)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

#[test]
fn no_module_reaches_a_module_that_reaches_it_back() {
    let (_, graph) = reaches();
    let edges: BTreeMap<&ModulePath, BTreeSet<&ModulePath>> = graph
        .iter()
        .map(|(module, found)| (module, found.iter().map(|(_, target)| target).collect()))
        .collect();
    // Depth-first search for a back edge; the first circle found is reported whole.
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit<'a>(
        module: &'a ModulePath,
        edges: &BTreeMap<&'a ModulePath, BTreeSet<&'a ModulePath>>,
        marks: &mut BTreeMap<&'a ModulePath, Mark>,
        stack: &mut Vec<&'a ModulePath>,
    ) -> Option<Vec<String>> {
        marks.insert(module, Mark::Open);
        stack.push(module);
        for &next in edges.get(module).into_iter().flatten() {
            match marks.get(next) {
                Some(Mark::Open) => {
                    let start = stack.iter().position(|m| *m == next).unwrap_or(0);
                    let mut circle: Vec<String> = stack[start..].iter().map(|m| name(m)).collect();
                    circle.push(name(next));
                    return Some(circle);
                }
                Some(Mark::Done) => {}
                None => {
                    if let Some(circle) = visit(next, edges, marks, stack) {
                        return Some(circle);
                    }
                }
            }
        }
        stack.pop();
        marks.insert(module, Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for module in edges.keys() {
        if !marks.contains_key(module) {
            if let Some(circle) = visit(module, &edges, &mut marks, &mut Vec::new()) {
                panic!("a circle: {}", circle.join(" → "));
            }
        }
    }
}

#[test]
fn inline_paths_macros_and_super_are_seen() {
    // The checker itself: a path in an expression, in a macro, through `super`, and a parent's
    // relative path to its child all count; a path to a crate outside this one does not.
    let text = r#"
        mod child;
        use std::fmt;
        fn f() {
            let _ = crate::parse::cap("x");
            tracing::info!(x = %crate::render::render(a));
            let _ = super::lookup::Deadline::after(d);
            let _ = child::thing();
        }
        mod tests { use super::*; use crate::alert::NextStep; }
    "#;
    let known: BTreeSet<ModulePath> = [
        "parse",
        "render",
        "lookup",
        "alert",
        "monitors",
        "monitors::child",
    ]
    .iter()
    .map(|m| m.split("::").map(str::to_string).collect())
    .collect();
    let mut reach = Reach {
        file_module: vec!["monitors".into()],
        nested: Vec::new(),
        children: ["child".to_string()].into_iter().collect(),
        known,
        found: Vec::new(),
    };
    reach.visit_file(&syn::parse_file(text).unwrap());
    let targets: BTreeSet<String> = reach.found.iter().map(|(_, t)| name(t)).collect();
    assert_eq!(
        targets,
        [
            "alert",
            "lookup",
            "monitors",
            "monitors::child",
            "parse",
            "render"
        ]
        .into_iter()
        .map(String::from)
        .collect(),
        "{:?}",
        reach.found
    );
}
