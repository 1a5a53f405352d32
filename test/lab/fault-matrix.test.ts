// The fault matrix with kube-proxy in iptables mode (the matrix itself: matrix.ts).
import { defineFaultMatrix } from './matrix.js';

defineFaultMatrix('iptables');
