const fs=require('fs'),path=require('path');
const Parser=require('/work/main/node_modules/tree-sitter');
const {parse,getLanguage}=require('/work/main/dist/src/parse');
const {compileRules}=require('/work/main/dist/src/engine/analyze');
const {ALL_RULES}=require('/work/main/dist/rules');
const c=compileRules(ALL_RULES.filter(r=>!r.onPath));
const qr=c.queried.find(q=>q.rules.some(r=>r.meta.id===(process.env.R||'DG104')));
const q=new Parser.Query(getLanguage(),qr.rules[0].query);
const ids=[...new Set(qr.rules.flatMap(r=>c.keywordIds.get(r)))];
const files=[];(function walk(d){for(const e of fs.readdirSync(d,{withFileTypes:true})){const p=path.join(d,e.name);if(e.isDirectory())walk(p);else if(e.name.endsWith('.py'))files.push(p)}})('/work/corpus');
const data=[];for(const f of files.slice(0,1500)){const text=fs.readFileSync(f,'utf8');const hits=c.scanner.scan(text,text.toLowerCase());if(!ids.some(i=>hits[i].length))continue;
 const keys=[];for(const id of ids)for(const i of hits[id])keys.push([i,i+c.scanner.length(id)]);keys.sort((a,b)=>a[0]-b[0]);data.push({text,tree:parse(text),keys});}
for(const gap of [512,128,32,0,-1]){const t=process.hrtime.bigint();let m=0,calls=0;for(const d of data){const win=[];for(const [a,b] of d.keys){const l=win[win.length-1];if(gap>=0&&l&&a<=l[1]+gap)l[1]=Math.max(l[1],b);else win.push([a,b])}
 for(const [a,b] of win){calls++;for(const x of q.matches(d.tree.rootNode,{startIndex:2*a,endIndex:b})){m++;for(const cc of x.captures)cc.node.startIndex}}}
 console.log('gap',gap,'calls',calls,'matches',m,Number(process.hrtime.bigint()-t)/1e6)}
