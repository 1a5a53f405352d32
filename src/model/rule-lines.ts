// iptables rule lines as the model hands them out. The drift analysis compares the rules
// kube-proxy would write (lines knet generates in kube-proxy's spelling) with a node's dump:
// as text first, a chain's lines without tokenizing them (a dump of 200,000 rules costs a
// string comparison a rule), and, where the text differs, as rules parsed by the dump's parser.
// The iptables evaluator searches a long chain's joined text (chainRuleText) for a packet's
// destination and tokenizes only the rules it finds (chainRuleIndexAt, chainRuleAt).
export {
  chainRuleAt,
  chainRuleCount,
  chainRuleIndexAt,
  chainRuleText,
  chainRuleTexts,
  parseRuleLine,
} from '../parsers/iptables-save.js';
