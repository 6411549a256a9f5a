// Generated from src/script/*.lua by scripts/generate-lua.mjs (npm run generate). Do not edit.
import type { LuaScript } from './lua-script.js'

// Each script compacted, as its part of a raw deflate stream (scripts/generate-lua.mjs, STREAMS), in base85 (BASE85_DIGITS).
const DISPATCH_LUA = '_I`Y*n^<[`o8/35e=NLuq7R8CV:;b:f+W*jV@HJlECXP=iSp3JK/um}bwZlq}skJit(a.cR:nEz8`ubWjMIQYsvY5M++}udQ6rO/-^612ns<j+Zu3{;aP]},KA-,[KH-O@(Ka->;O47_4OX//@y/54.A]nw7?Lbwyws^42?|2v9CzrNPfidacfAs+_X_AVG5*4`q-5y]V/db(5aY*6IG@TvA3=`28J.P.UrABr.xM*yZHi{(yMH+hVl/=Rn9I,[dZg@[4P9,SPb_ZB>o5YpQVH,Q:zW},wETK2bh,bj>RpB@lJZ?bF-B?W4OrJs8@SyTwOH>KskX/_xq(|BG28Ujq5]b}WH0xUh1F>mo7Fkgs*?dHL[YpGfYNavfcA-[]OaGb>+5a0)o6_AR.ewHy5AY`fKet0o|x(/qD?Li;UBM-ji:Q3wF*1861h7PRx>P0@[qTdp>5^;NpW@`oun;SgihtkNXbHGo^vGJQ+HxVXn>ftgPj4ig8`-ctDZ:[0z?p+*7)D_H0shYI}w6c28Rmz^F.?7*O>,8Qpxvk9^*u?8t_aG^NR*La*truwBf7sG]U{21c:kCM/:d*ZpO3,S0Xw-G`RK)-;f}gKoJ*PfowAG}s+}4swp[ReZ(dHEF8{9voM/T-(4<SI_(-ocLKN]556n|t_N=AFK?X:LgK|v(}Rp@(v1vG)s@Km(Pi;T*GPl[99Kba0*2|0+-J,*(Z9nvRDJy9([Mtr5JTVkQJpyy2dj<x,@SE/(M1FKejxy+fJl)NX7aEhrWrJ``2YIol>K:^J@Hf),iT)2(5Sma}-*i5iJkHnr0R7WOV5xIS;.EP-9M1Xa`AIY,l1jeO}Ww,M4|8^AneWcl:CG/p5v26QAMJaMr1Gf7/>DACnXr>torn2p*J}Wl;J8{B-BJE8pQHZ9VgQftM?|-VP<c:rJC1R7}vYRQyAcN([M[=29nC|M]*RRlF.v`CnVQI:G`QJ65bUVe]SNoBXueC`b(pzjn+j,8^-lCelN^d7,MPbLCRk(nP_9Oa_bsyj4Bq7jqMKLF<xco7IfUarVC2)cbqrA+Z}9SGMJT5i=XLL6<(+/Sn;`|byGa5,Il=jQ,a:oOT4ttsokC=];`xqrg?l^x(6YFsf*K_LsUg+qnSaUGxFf?^T}Y(MrN;8]?Ui5G^V2aEm:}FnR@T925qK4E`R{OR1M:{`TpCjSwQ`^dOB}Da?jV`V|aW6mCcL)N^m)1cPd(FQ.mzFgWOA?ta8q|Bsj}Qar9?q5A=6=,Te9s5EeoO?}|,va5W>s8G-T825.eIT,d49cU)Jl;IX}0qzSW1@Kf|+Px3u39blDT]|F[-qFM}<-lAR=V`VYn9wkRy,[1qZU+*)8V3W7SN.HpAt=Cfq)cvc=g<k6IxK4xrhSoP=o4s=h0:{4)clx8*BGylGB4.oy5GJo=r+mZ0ATHm:m]K^wksbtJa{]T{OB9g3ueiY*I.wvdYm9Qbq>(;T2N}?N2YbX0xuOAliEa{aK/|ikIPq`*2V==rMlgn2GD7YEVkze^0?Xz`jNKAtkBDU*1De/e+Mu/.[L:Rrq4TOa/pPV;M5;veJm*`VF<u.?sQspsG|5r:5m*3wp(foXJI(UFTZ]-4nC|1dJBtQUI+Z7T`+V2F@^nTejBQBzIu:DTU2);xQy7z4TqSHKiUMXvP_3E]B^=156E=CEwYm5e.I0<cTeQzpnk^;D/5f-*yZP_gt.UT]p}WOAcF([6i::YBA]uf+<KVE7[]2Yci(DOP6=?my(E4}va_WaE`TFNC[}O1X0LH?LnblkUHOqH).XbS:.Z(a}+94<`[=o805Q,QOs?FR5-wJNw0se.8)j^k^GCL?G37-[xDgZhUX7_{@0ZJPJ2VP,j7K`^`0K+QY7*@Hj,3)|0knZcXk?wTJ7p1i;XDl?*F@H`*SG.7E]OfIpFh-(29pLg;Mt:|l8q^Mm5R:m_q[osO8IJZrknF(F]yQ}5DpkXLlpOHc]F]jDb?(YA*|oTG9N^cED+Phkm4nM^B5=N=,8=zlu{8yF*,TTT+hfH(KNy|z1Utid9{}hQyr3.su1(XI1gfG)>fUJ4>WpRn<Zd{<e<tqT69ezP-I<CnUU@XHL}]k@GnnDf}.@bk1}@CxX(W:2}@pxLr8aruip[tg^l3|+dpUQ/6X^bP@*9X:*Bu<(.Bl)B=)N]aYYrLFk-sa,,tbk@NMp@8^G3RY.`rWs/3mv/BH4Tvi=]F6:ST(J,l3,fWfRE6]<N6]t93][9A>L-lgZQ/QH2=I.m(<+Xrj_J`q>xfpfF?]GT;X.a.cB^An<oj@MaFuuvl^k.-22dJh^8d4vC<t2}iG0IhD@lCHK|049c^*am@WDLs@EChn>;;O|h-1liy]n/eBkT@O9Cy50tYF^f-E]q:.3jTuv<a4r6DOXADjHrgA3,?Ifr,o02g2[3Axk81p_rg:HE]gl8W>n/.DqvYcG968-ng7(rrv9ak4xIS+cz]ge|47^5B76L/;mP9^z1J|j_Lkw-qoJac)/`=rk8.v(IDJcdbYc8{_)GRGWY@x.+o<)j-ix?k/jV?+gn]V?Di3Vb.UuS]b8dH],Oc_x(3Cm5ozNXQnK]45Pl/I|+WF=^D-HCGceFsXx@BHYxZOZH/{t?61>Ecg?EyUy{|l;<W{g7yTD0;B>3CCV^:4wnlu_R0mOk(vSlP<z?E1@^,_y<Dvo[)lI]GaxUu4JR2rXi4*j[/6KLH{J}Aql79vS/jkh6?Y*M^W?I+jq0)<}+L)/U8`H+lUTmP(dPL=s+1PTye,yvQHy`x+RlhVe=;KQ]NurJ33yyNGaxM/wV:5+:X)f_SoE}mQe12rUAn^F}h9q`d83vi1n7{UK>1/>P,df`KX}x@l>yteYSMfdGLgrk9vF`ZQ^]4[r?;0OeI<6wEG,k`C)OGcfV_q.+3d<nNLQ*O5`eu{DS*Fw^MNZ9TpK}A}]E11NJK|.H8.@0lODIc[iFZ15DICbqh;+kKjjV^gxk9iYRM3XFa+u+SPiTLGD_WaK8MN9C2a4c1hW<R[:O@Pjo9ChE3T8pcX9NjtJRs>Jz0M68_N-U(ftE9NqrVYI,-dgXD<4ZNy=h{ageOqIHTL:H/H-GW.7dH7J,MO`GsRJHc@-^}z3d7*-lc`PnsT[*3nnqp9WX}O66yvNj{jWt/>e_i;/qTyfYLKEb0W:)5vfqX{HHwVJWZx6[8=zjV;gAivK.Dq78-z?NkG;j`/P,WmtnnaX2Y./oQ*=cYsc@Q`z8hAMXT@f:Fqz}hr>@=Xj/`g*a3mC)PujpZ90<b_Wb`qp<|`oIol/G-^}a,0+1D?RtBQenlr_lhLbO7/kke:)9]1>P^P(M<Byk9_{U_cV/_.i9}UK_XY`ZQ}6fDu0_2j`IHkF<.=j(RU:.pf^(P(Q=HR.C61HnD]vT?YqPdU<Mz)?i]Aq}Hg2QnZ/.Qp+g<XHRzP>s^6UV2^fM]<.=Fbw>j9H{}}_ZnK5TS{oeGN}nizZ,D5s4?>N2HI^0XJLXC.H.LLWksb{-U.)*wQ5p*JfE)}S>cTr(G8h,BqFG<Q7sCfm`+GvsXP(|-X+;tM}uX|FSz7YAiuW@c,A80HJJ)|1)5x@q_<ISYP<NbApE;:)w?n;xf=^F|L}oMzs:Hzg,G,H.I89>|>GnL7c2ENk(7]wHP5*VuYBM^9*6/`Ahf(104U.(cy}TCP}/`G}TySS(Cq[Wok]Nl/D/w/4hIfN_:|-]=IPTjKXJ;dij,9Iw67Lc}fSTSue_TH^IGE35Z=}DEV<8B@i4gDa[f^7IDbYGJqEh-hqKaf^mkPJB0o3bw<9rp,Wn(0d-:SoR:4FZ5Qf5)IU1uXHFaS)OBD[^Myr*|x6L/ACf@amL{2knZD@NYioSLVI}9nr6fYH)qZ0brS_KtJO^h;dKxJM:)q;(aPW/}E==pV}YrGy}?M-8B=LP6_vF<VN4Pk]lCH7S>L8>_*>7Pii`kVp3G@rIL:Phu<97+DS]9ivUs<+wWt6[3T[a|Vfyrlgez)S`,xr[ym8{5:l*}b?H<oQkXq:F=LXP-j]}G|ZXh0yUNF4G-XaO?p:v1rmki3]C@AFtb9=6@:+,9h+*(3YZp}ovtRSptZCXJhYB=ea7}l6lJ(A7`wYgC/OrvMdf;`D@gEAM6UT{hiYkE;1>fF2*wuK4[OicQHh,H/lBZi-XXFM,5dHLn}QH@i<FzG0enRHX6PY}OH;Z0(}WcZ+Z2kfnrKXpwm3QT}/`H6>)U8M3GMg)gP<HLWtSh,UxOD^Ohio1|cR(8Ox`k|FDFRv{Afmjy(lefBVA_`93]>uJH/A[tH@o-*VVk+8xo3C7[hmxS-[/?la:Fj[=W:c|W<tqd)_FKeTBExSm[v38@W63?=^OUoSiY@lK(<C+L]q7+vq{A59:{1oLl67nTU6dph`|6*pTkUIPBTEoDvbw3/[fD@ceCRx[;DBYu)dt86,bvIg`,=:_6rTu1?dU/>XU<|@<a(1m1;h,h1Il1Zu-bY5Nm_[<RP{/-Ejso3A2b8(-^Ul^C1kXX=4qVv2bb6gKH[d)SE0>H`qQNNG{bri=n:,YDaYPkVIR;09^ksashM]q8q:GEU^DAYGIp8n`lMtIL8+>6)vSUh1twPTODZZW/8>zYof<<qB>lH,1RuXBb,tb?^Up1:Jcri]:>:sKm?nDm>[R6;a[@y=umT^eA87)HrsIF)<]0Zim<SdrQZ7@}Eel^7X3NZtu^/IvKp>VJ=JH,fyR8zTsO>5k`BfO17I7:@@VhW|OAUA9K*R:8CX?CvGYD4|wj3HN7h}q*-wQzm^ugIbOb=L9Yru-57*wYu]yZqvwA(prEWmHHH(g:*0I}|QPHNT_ueBX07>{1t-QP=>17u(W`JK7^@ixc3pASb1D>S1Gy[*vGHO<:B`n]*vEbeDdVeXj`q;c6@UAHO;C)B=kWv2*JC*^X1V3nhF,dv,snnO2xp^0H79O_TF8qLH.=lsNmz5?j[:kI5yBfx|g2H?4>qP7VG-^{+fOme>)]EBhml|ej<KZvh=bfEuyyV}ylDwKWy3BxM0oIgk}u*9)J[PCdf^4]3A2YX/:5D^MEN_ppBAwQ7+WbKb{Pcnj4pI7SWW?nKRZ1J0G+RA(p2Wb=kDEc:/gBeBa3W29h^[mT0dw<4Ps0),<n5k.4nLu>>P4|r/6({|p@fF;O4]}rM_..2VLDo3(v`fD-wD[`m,;|CnYG->F<fR=[,Lsl*:asD<BepV(7UM>sXAy;M+S]_3]>A/0q;?[ajM:Gv(qZZzZ^-eC3>{^Cvy6ddGY^e`PWKPU_qwj3OrFh1-z)Qn-=q<wc3q3-D+(g+o[BZ7PCb^1h/0jGFbat6b==(/eC7vPU7?LM0?O+Gkp>`ylL<6cMKJEY8xG1ysy/_W^ZSz:0KhIUu{Y:ktzX.k}Mb@_J3TG(OJc=us-D_vQA*)2Rhi[Gak)V{qio;=;7U58DgrUHb>UJvo>493=i_*GJU)qqbg_rjKUh7In@-H@bI:Dw9PlV}^Vg|G3)myFh|KD]tha:]ChT{XGtx<jmB)tHF40OcD=ZseFKiJUV6UC@,(zpdyeAHx95xa;6a*K/DZ-3:9);6Y`>kx4n6^U,+>cpJ[6p={C)CxOJ:wH=>bwH0aS7eSf|R</w}eC`;OpSHV5[UNOL0,hlrf*[M,1>{NhFyxu|xO`JQo9yv?73s?,QBR[Xk@Jl|D`>3nG7{/vA1:i)(mH1<q4Q30:,POsn*fmPgsNmO]>X0Gz8=muIyJX_Uh1bbM8@JlxrbgV)]*um4kX^2<aS<sUw9FY).oBojBWH?fVGex<2Ln<b9-H<|m7QZqxkFDIL]-oqCO[vJ8CmwzTpXK4m[i1IuS?NYgIGBK>?*Ht@-G)XOcIR8[,7CWcFWON@65pIJc-vDm[jwsPgxPFFo<W8CnfeX;}Y9)<Ty0_}S_Qu]fC6DH(:i(IhIpftL-tsIdZR/0+oUss1q8+8oTA_[(8Ah9pdrP`Xsg:`.)eBQA>{RD@A,t7k+i[Y9ZikRSA6vuK*V??EV7MS2hIq.F4,(Z8dG1ED?mIP-@SO./X6S1ACJ4-SUS`?Qs0{Mb81-4jju4^ZhjW}BtA{9neq]LLdugu<`k44.B{a=^EOFMeBS5MoDbp3v0>E`1XVA=7TtQGXI{h0YP=H.M[S?F:NYyQ@Q6?ZMmDvpBfDR`t<3};4?SoO*Ciq7H+4QceEJzRHJ0yrAtef.7<;Es:nC7x|K0;+IW(xNr*@Mydjo]GDlcUzdwpKKEBv?XX/>;9@,U(E5ji8VrY;y}{bkwV8`:klnw(h0Uy63D5wy)kGsKQw014x8>VRb)>;I88yk3h{8.n-LMB]eC2W06sVCsQ6<vk31Bsq?n2_,rwTR/vX7;1{x}}z6X[pWMF<W*ZwdtBfbpcEcX{GMtWh_mH,)C<].>eMP}Vu1PUG8Aghw5@a<s]+T|2m+d(kqIw_4hj;b2Bj8_T?)V8Ipcgr:<N6J`F/kXjU?M}NZ>So63EEKQwS/?wkBWx6R<KS2NXE|X_FHQ<89GWf<7>aR(y4^_1x9NNYo)SZZx7*U0,=QsT[)>zVf[s>>)@fOk{y5v^}FvkN+qG1ZL7<pu6N(/@6@Z*]P:M<1opIC:[o*??dZHR8^Yh7@O?B0E/sNr1O?,p9nVwwYwoAFM;g1)pT=)DkV6OJIrU[y:05Lne}?fDFE]yTD(|G3W;QvyFAQs?dqRc]GO.l<B3YDxv},[Nv1lC9Ha4}_M7VZd,[p@EZw[)G8;[sLT^fy[*WRW@PzMbdk./TM<nq;*2=z.w<HLY-g:fTQ7pLjfT^<d()q);n]gRk(9|EWKJXCw8CG9xW1841,_1{8:5X8=|O`Va}<o.FMABCFH[4,XI,OPo}kST>;g,+*Y;S{-ubdadB=1mXho_l-xw9Z)NBpR@=>}P9|k2ZAI?dNHa`b,t1-y?5KYsGu8uFX0pyg2wQKcvnT^>Wj6Gzw8.wickd.ai-NG}9TZy+R-lX=]SJ.tlR;nwFtUJ-=cpa7(5*(ybPOL}SnMnk3LWKR<0LNJCLU-wp7UK_sT8Jczd0c]2t)9gl+>GL<b3wxui=W3c+_8YzF*qQ25KqX5awBmSlU`c6A9xgj)J,`VM0YA:6;@tHY{WLhBGb1cG]Ka=eDLy5:sTolhIsrl[ojfKIWroM3=wBy}5GU)h{InRX^dE.CS/HuM|<DG4`i-0hMaa{(>vH,wla,Q-_nFL)uV;{5m4F?8KWHauTZX27;Z8{SfSWImnBe/681VpM.Tkv1.z:<f-rQ}fgSHJ;7[j8bv/@=vaBKiOl3:)x:3:*v+=zU@F2DSc2X*qd3A4re)E|jz6QV=@[KJu4V*,+N*yI@+PFVa9e2XE9ZFAtj[NeSq@({Hv[jm6zn<f,-,QovPoz57)CY;0-iwyvWcgR6-eM+3_;5A*Smud9EyxBot(lF`22@(Z</uk`G>qK[T|TnldmiKXzsiWxxT(CC.'
const CLEAR_LUA = 't+wG>g,]h]z,=d8IliIw6kCQjtgHb8vTYlMWFbFD;RZV6YAf}}c|HaMWB{@q@6LH1Ky8<*1m6i.-NF?UHJB(v<tXs@],19;Zp+(=mYz*gsQ3IVLXB+RC8l^:@CdkdG6c|(;VuLSkv]|Y-3vH:().+9y+fJd(Sne_dOsn/]jxCd<RTQ.fI1N^xXvst-2ZQ.E]^vE]cW;;/JQqFp02@>L5c<_g^Zhmn+7K@WiC^U/-5F3[/Xbd>/d(`Adel(8kPfsyyyL}wqe4b+p_U-z2A>ly;o8p)vtQzz==}F.0RUTNLkW0F,Lr.G)XHIn(.[_)/qk_)))LVQG]E*5k4|p}Z(zuKAT/oltY[tj;.E7`HA@,IK5mV8^(=lV(FKU/Aia2ZNJN}-Vl<`cQ7Q{.2]9Apo-|*Rk-yJ33n_A3BY<qK7*L2w7XUyk7Vnf0.AYUU^uXZ-=hcDtYqdn.6OFpfCo<ndUwO)3934Pc[<P[U;L`cX}=caE|6.>;q,nrDHCZ4?k;-UJ+^CN0(2osS.2Hj0PW.a8aXOHb5sPknm-qpE-,p[DV6Q:XK8joZ1m?i5G[I3((1.('
const PRESENCE_LUA = 'fK^TU,p`vxkH,|=QRy2L,Qd583xZTSfMTm4}Q5/p+SbL9X0,,,nslMtb5hX1}B>}l5cP9`=ckbs1Q>[eiGOh?n-W>N)L:v<`MGz8t|l4AF*<LU[u)JiTZC^q7Y*koL^GTH4XGb:=}G.60MFv2+rW}Z)aMm4}PRic(((+(yy'
const BACKLOG_LUA = 'qIVKSfd[H?A7`bM@^g|@yCE7:WY-LlMz1T{`A/XQ2IBuDibF8:jX*5R;iLN>R/vD{Pi0:3r8>,0.GPaqO[RqLHWSU:/(BJz6NED})`FclapbZshVcz9;/[3]+5W|jaxP4{)^-dQH-b*`Z|tjbx6`ao=P]H97G23[m*ufmXL{R+oiYM3;=:flvaQTj]L2zLm>FjG5P(ung/O|JE2qB^+40N2<*yrZuMPNaf-ZY4_(ACNCN|xkCiV-NP}`X+[fQdr(CC.'
const CLEANUP_LUA = 'MHk}On4F<Q<N0L+i,Hi*L>>dncUWhTcd^g97p@RifV6>n>TJetlJ-nEaMiy_`1FgpZ0++7O*PB*R_gG(a0j*/z/XK}+<=wV,}^^x[0>L`:DlJIA6Rp+,Sih1qZY8N6rwXm8uFd6RH9Z*(U`OGelWF+TkV<`Y@?uR``.p6g24e})Z2Wv)(f1>d]w^]^b3r(`WN[eP}ZVeWqbtKQpus*80Kv{G`Y]sZlA5QB@,6*ifao=M1[=o/-7PzoZbm9fY;d9)ub[.Uc(a@I;ubTQ2hruQW/6^GDxXoK{,79qNu8t_sZ}|g`y(03)?Qu5oZG/rMu5qrcBTnWFWzDmDYK[s.l*HPcit,c2,E.cG41SnXN.Ms0n:1-[tdrz,:/yy+35bl^(D^bXTT+n?-0o>zGS;,.,42(BjQ48H,X2or/qQ3>|?oLWc;[Nu]m?ei38k+DWKMAr4Rq4xWzSa|F4_T9Pht(8(b]v6OgcE:G_`RPgMF7@5IMA(A4?hXkTUbSbJpC1Eqr-_:wW3F,im`3.{CS<,;,2+11FEId>W]K@yx>J,>wA|Ru?Q3PfABS(uR+.MQ6@wdJ1HPlrgG?N+e,43G,U,u=OA^Ap23[Hp4A)F6}`DlxfJ8A9A0w;UOTs,F=@zQ_o,f6vnHUf`hs(tCYT;]cp??E+2IH@kkK7{=t(;Vo(KZs+((((+(yy'

/** Reads one client's offline backlog, the very value Mesa's server reads (HGET) when that client logs in: whole, or one range of it, so that no reply of a large value is larger than a range (src/script/backlog.lua, compacted). */
export const BACKLOG_SCRIPT: LuaScript = {
  name: "backlog",
  sha1: "07a7573ec7bfd0b94e27e4570e2cb66cad7e5e1f",
  keyLockingSha1: "83007b6113e22d8f21c2d15405ac42ee2ce0f04d",
  jsonBytes: 917,
  start: 21969,
  end: 22855,
  deflated: [DISPATCH_LUA, CLEAR_LUA, PRESENCE_LUA, BACKLOG_LUA],
  streamEnd: '(z,rI1EQ',
}

/** Removes the backlogs whose newest message is older than a cutoff, one bounded step of a scan over our index (src/script/cleanup.lua, compacted). */
export const CLEANUP_SCRIPT: LuaScript = {
  name: "cleanup",
  sha1: "574870057bd688c76b972ae11b71b574acc102b0",
  keyLockingSha1: "bc92878867e229eec4b2ba34ab87dc7aca6f308e",
  jsonBytes: 1112,
  start: 0,
  end: 1066,
  deflated: [CLEANUP_LUA],
  streamEnd: '(z+u?=iL',
}

/** Removes the offline backlogs of the given clients and our index entries of them, in one atomic step, and says how many messages and bytes each held (src/script/clear.lua, compacted). */
export const CLEAR_SCRIPT: LuaScript = {
  name: "clear",
  sha1: "8676af8888c1ff014d97ecda8b8d5ee203728d34",
  keyLockingSha1: "8a247d1b1ed7c4e3356025bb994416a2a6123d64",
  jsonBytes: 4958,
  start: 16657,
  end: 21361,
  deflated: [DISPATCH_LUA, CLEAR_LUA],
  streamEnd: '(z*Sw>/(',
}

/** Applies the dispatches of one call atomically: for each, the dedupe check, the online check, the bounded offline store and the PUBLISH, exactly as Mesa 1.5.8's servers expect them (src/script/dispatch.lua, compacted). */
export const DISPATCH_SCRIPT: LuaScript = {
  name: "dispatch",
  sha1: "60cfd3b491736a8273dec4d98ef387067688db7c",
  keyLockingSha1: "cce8186865af17dbb9444caccfc360ebdfce4baa",
  jsonBytes: 17502,
  start: 0,
  end: 16657,
  deflated: [DISPATCH_LUA],
  streamEnd: '(y|W>VD/',
}

/** Answers which of the given client ids are in Mesa's online set, or, given none, how many ids the set holds (src/script/presence.lua, compacted). */
export const PRESENCE_SCRIPT: LuaScript = {
  name: "presence",
  sha1: "3f972e28e9839d25bbacad4b81eb5dd579b3db2e",
  keyLockingSha1: "765adb4c81df94f16a1049ed0b8ec4f94755c254",
  jsonBytes: 631,
  start: 21361,
  end: 21969,
  deflated: [DISPATCH_LUA, CLEAR_LUA, PRESENCE_LUA],
  streamEnd: '(yz*<(ch',
}
